"""A cell's result: what the runner produces and every output consumes.

`CellResult` is one cell (variant × profile × scenario) after it ran and was
judged; its reports (`ReportRef`), steps (`StepResult`) and their subtests
(`Subtest`) travel with it. `to_json()` is the cell's object in summary.json
and cell.json (keys as they have always been); `from_json()` reads it back
defensively: a summary from an older harness, or one a user trimmed, gives
empty values where fields are missing, never an exception, and keys this
version does not know are kept (`extra`) so a read-write round trip loses
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from harness.model.expectation import Expectation
from harness.model.outcome import DEATHS, Outcome


def _str(v, default: str = "") -> str:
    return default if v is None else str(v)


def _num(v, default: float = 0.0) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _int_or_none(v) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _dicts(v) -> list[dict]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


@dataclass(frozen=True)
class Subtest:
    """One subtest of a step that runs a test suite (dma-buf selftests, kselftests)."""

    name: str
    result: str            # "pass", "fail", "skip", "fail (-22)", ...
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    @property
    def skipped(self) -> bool:
        return self.result == "skip"

    def to_json(self) -> dict:
        d = {"name": self.name, "result": self.result}
        if self.detail:
            d["detail"] = self.detail
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Subtest":
        return cls(_str(d.get("name")), _str(d.get("result")), _str(d.get("detail")))


@dataclass
class StepResult:
    """One scenario step as it ran in the guest."""

    name: str
    command: str
    exit_status: int | None          # None: the step never finished (the guest died)
    expected_exit: int | None        # None: any status is fine
    duration_s: float
    output: str
    ok: bool
    note: str = ""
    subtests: list[Subtest] = field(default_factory=list)
    extension: str = ""               # the step's one extension of budget, and why (harness/vm/watch.py)
    evidence: dict | None = None      # a hung step: what the kernel was doing (harness/vm/evidence.py)

    def to_json(self) -> dict:
        d = {"name": self.name, "command": self.command, "exit_status": self.exit_status,
             "expected_exit": self.expected_exit, "duration_s": self.duration_s, "output": self.output,
             "ok": self.ok, "note": self.note, "subtests": [t.to_json() for t in self.subtests]}
        # written only when there is something to say, so a plain step's keys stay as they were
        if self.extension:
            d["extension"] = self.extension
        if self.evidence:
            d["evidence"] = self.evidence
        return d

    @classmethod
    def from_json(cls, d: dict) -> "StepResult":
        return cls(_str(d.get("name")), _str(d.get("command")), _int_or_none(d.get("exit_status")),
                   _int_or_none(d.get("expected_exit")), _num(d.get("duration_s")), _str(d.get("output")),
                   bool(d.get("ok", True)), _str(d.get("note")),
                   [Subtest.from_json(t) for t in _dicts(d.get("subtests"))], _str(d.get("extension")),
                   d.get("evidence") if isinstance(d.get("evidence"), dict) else None)


# The detector's fields, in the order summary.json has always had them.
_REPORT_KEYS = ("kind", "title", "frame", "corrupted", "module", "last_unloaded", "step", "signature",
                "start_line", "end_line", "text", "modules_linked", "tainted", "alt_titles",
                "corrupted_reason", "modules_unloading", "location")


@dataclass
class ReportRef:
    """A kernel report found in a cell's console, as recorded with the cell."""

    kind: str
    title: str
    signature: str
    step: str | None = None
    frame: str | None = None
    module: str | None = None
    last_unloaded: str | None = None
    start_line: int = 0
    end_line: int = 0
    text: str = ""
    corrupted: bool = False
    expected: bool = False          # the judge's verdict: the report the cell's expectation names
    detector: dict = field(default_factory=dict)   # the detector's other fields, as it gave them

    @classmethod
    def from_report(cls, r, expected: bool) -> "ReportRef":
        """From a harness.detect.Report (anything with to_json())."""
        return cls.from_json(dict(r.to_json(), text=r.text, expected=expected))

    def to_json(self) -> dict:
        own = {f.name for f in fields(self)}
        out = {k: getattr(self, k) if k in own else self.detector[k]
               for k in _REPORT_KEYS if k in own or k in self.detector}
        for k, v in self.detector.items():
            out.setdefault(k, v)
        out["expected"] = self.expected
        return out

    @classmethod
    def from_json(cls, d: dict) -> "ReportRef":
        own = {f.name for f in fields(cls)} - {"detector"}
        return cls(kind=_str(d.get("kind"), "?"), title=_str(d.get("title")),
                   signature=_str(d.get("signature")) or f"{d.get('kind')}|{d.get('title')}",
                   step=d.get("step"), frame=d.get("frame"), module=d.get("module"),
                   last_unloaded=d.get("last_unloaded"), start_line=int(_num(d.get("start_line"))),
                   end_line=int(_num(d.get("end_line"))), text=_str(d.get("text")),
                   corrupted=bool(d.get("corrupted")), expected=bool(d.get("expected")),
                   detector={k: v for k, v in d.items() if k not in own})


# Facts recorded about how a cell ran, present only when known (key order of summary.json).
_RUN_FACTS = ("worker", "started", "boot_s", "boot_from", "cpus", "accel", "wall_s", "first_attempt",
              "boot", "console_lines", "dir")


@dataclass
class CellResult:
    variant: str
    profile: str
    scenario: str
    outcome: Outcome
    expectation: Expectation
    passed: bool
    why: str = ""
    detail: str = ""
    harness_error: bool = False           # the harness failed (QEMU, a stage), not the kernel: exit 3
    flaky: bool = False
    attempts: int = 1
    reports: list[ReportRef] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    duration_s: float = 0.0
    tainted: str = ""
    build_key: str | None = None
    build_release: str | None = None
    # how it ran (None/absent when not known)
    worker: str | None = None
    started: str | None = None            # local time the cell's last attempt started
    boot_s: float | None = None           # the guest's boot (or restore), when this cell booted it
    boot_from: str | None = None          # "snapshot" or "cold"
    cpus: int | None = None               # CPUs the guest's kernel brought up
    accel: str | None = None              # "kvm" or "tcg"
    wall_s: float | None = None           # the worker's whole time on the cell
    first_attempt: dict | None = None     # outcome/why of a flaky cell's first attempt
    boot: str | None = None               # the boot folder whose console holds this cell
    console_lines: list[int] | None = None
    dir: str | None = None                # the cell's folder, relative to the run folder
    extra: dict = field(default_factory=dict)   # keys a newer harness wrote

    @property
    def id(self) -> str:
        return f"{self.variant}.{self.profile}.{self.scenario}"

    @property
    def died(self) -> bool:
        return self.outcome in DEATHS

    @property
    def unexpected_reports(self) -> list[ReportRef]:
        return [r for r in self.reports if not r.expected]

    @property
    def subtests(self) -> list[tuple[str, Subtest]]:
        """(step name, subtest) of every step that ran a suite."""
        return [(s.name, t) for s in self.steps for t in s.subtests]

    def to_json(self) -> dict:
        d = {"id": self.id, "variant": self.variant, "profile": self.profile, "scenario": self.scenario,
             "outcome": str(self.outcome), "expected": self.expectation.describe(),
             "expected_detail": self.expectation.to_json(), "passed": self.passed,
             **({"harness_error": True} if self.harness_error else {}), "flaky": self.flaky,
             "attempts": self.attempts, "why": self.why, "detail": self.detail,
             "reports": [r.to_json() for r in self.reports], "duration_s": self.duration_s,
             "steps": [s.to_json() for s in self.steps], "tainted": self.tainted,
             "build": {"key": self.build_key, "release": self.build_release}}
        for k in _RUN_FACTS:
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "CellResult":
        cid = _str(d.get("id"))
        parts = cid.split(".", 2) if cid.count(".") >= 2 else ["?", "?", cid or "?"]
        build = d.get("build") if isinstance(d.get("build"), dict) else {}
        known = {"id", "variant", "profile", "scenario", "outcome", "expected", "expected_detail", "passed",
                 "harness_error",
                 "flaky", "attempts", "why", "detail", "reports", "duration_s", "steps", "tainted", "build",
                 *_RUN_FACTS}
        c = cls(variant=_str(d.get("variant"), parts[0]), profile=_str(d.get("profile"), parts[1]),
                scenario=_str(d.get("scenario"), parts[2]), outcome=Outcome.parse(d.get("outcome")),
                expectation=Expectation.from_json(d.get("expected_detail"), _str(d.get("expected"))),
                passed=bool(d.get("passed")), why=_str(d.get("why")), detail=_str(d.get("detail")),
                harness_error=bool(d.get("harness_error")),
                flaky=bool(d.get("flaky")), attempts=int(_num(d.get("attempts"), 1)),
                reports=[ReportRef.from_json(r) for r in _dicts(d.get("reports"))],
                steps=[StepResult.from_json(s) for s in _dicts(d.get("steps"))],
                duration_s=_num(d.get("duration_s")), tainted=_str(d.get("tainted")),
                build_key=build.get("key"), build_release=build.get("release"),
                extra={k: v for k, v in d.items() if k not in known})
        for k in _RUN_FACTS:
            if d.get(k) is not None:
                setattr(c, k, d[k])
        return c
