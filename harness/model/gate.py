"""What a gate decided: the series, each cell's differential verdict (base vs
base+series), the patch each regression was bisected to, and per-patch
findings. `GateSummary.to_json()` is `gate.json` in the gate's results folder;
the markdown, JUnit, page and terminal renderings read this type."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from harness.model.checks import CheckResult


@dataclass
class GateCell:
    """One (profile, scenario) on the base and with the series."""

    profile: str
    scenario: str
    base_id: str                       # cell ids in the base run and in the series run
    head_id: str
    verdict: str                       # unchanged | regression | fixed | changed
    why: str
    fails_gate: bool
    flaky: bool = False
    base_outcome: str = ""
    head_outcome: str = ""
    new_signatures: list[str] = field(default_factory=list)
    gone_signatures: list[str] = field(default_factory=list)
    expectation: str | None = None     # the written expectation for the base variant: met/violated/...
    expectation_why: str = ""
    culprit: int | None = None         # 1-based patch number the regression first appears with
    culprit_why: str = ""              # how the search went, or why it found none
    prefix_outcomes: dict[str, str] = field(default_factory=dict)   # "k" -> what prefix k gave
    follow_on_new: list[str] = field(default_factory=list)   # reports after the oops, series only (not compared)

    @classmethod
    def from_json(cls, d: dict) -> "GateCell":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class GatePatch:
    index: int
    subject: str
    filename: str
    sha256: str
    author: str = ""
    commit: str | None = None
    message_id: str | None = None
    culprit_of: list[str] = field(default_factory=list)     # head cell ids it was bisected to
    checks: list[CheckResult] = field(default_factory=list)  # the per-patch static checks
    check_failures: list[str] = field(default_factory=list)  # the checks that fail the gate, and why
    unverified: list[str] = field(default_factory=list)      # checks that could not look at everything

    @property
    def fails_gate(self) -> bool:
        return bool(self.culprit_of or self.check_failures)

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "checks"}
        d["checks"] = [c.to_json() for c in self.checks]
        return d

    @classmethod
    def from_json(cls, d: dict) -> "GatePatch":
        checks = [CheckResult.from_json(c) for c in d.get("checks", [])]
        known = {f for f in cls.__dataclass_fields__} - {"checks"}
        return cls(**{k: v for k, v in d.items() if k in known}, checks=checks)


@dataclass
class GateSummary:
    series: dict                        # the series' identity (harness.intake.series.Series.to_json())
    on: str                             # the configured variant the series was stacked on
    head_variant: str                   # the derived variant: on + the series
    base_dir: str                       # the base run's results, relative to the gate's folder
    base_cached: bool                   # the base results were reused from an earlier gate
    patches: list[GatePatch] = field(default_factory=list)
    cells: list[GateCell] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)       # what kept the gate from judging
    timings: dict[str, float] = field(default_factory=dict)
    exit_status: int | None = None
    twin: str = ""                      # the configured variant that is exactly on + the series, if any:
    #                                     its written expectations are the series' contract

    @property
    def regressions(self) -> list[GateCell]:
        return [c for c in self.cells if c.fails_gate]

    @property
    def passed(self) -> bool:
        return not self.errors and not self.regressions and not any(p.check_failures for p in self.patches)

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("patches", "cells")}
        d["patches"] = [p.to_json() for p in self.patches]
        d["cells"] = [asdict(c) for c in self.cells]
        d["schema"] = 1
        d["passed"] = self.passed
        return d

    @classmethod
    def from_json(cls, d: dict) -> "GateSummary":
        return cls(series=d.get("series") or {}, on=d.get("on", "?"), head_variant=d.get("head_variant", "?"),
                   base_dir=d.get("base_dir", "base"), base_cached=bool(d.get("base_cached")),
                   patches=[GatePatch.from_json(p) for p in d.get("patches", [])],
                   cells=[GateCell.from_json(c) for c in d.get("cells", [])],
                   errors=list(d.get("errors", [])), timings=dict(d.get("timings", {})),
                   exit_status=d.get("exit_status"))
