"""Which check results fail the gate (issue 15: configurable).

Default: a build break, and new compiler (W=1) or sparse warnings, fail;
checkpatch is reported, and with `strict_checkpatch` its ERRORs fail too
(its warnings and CHECKs never do). A check that could not look at
everything (NOT_RUN, PARTIAL) never fails the gate and never passes
silently either: it is listed as unverified, with its reason, for the
report to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.model.checks import CheckName, SeriesChecks, Severity, Status

DEFAULT_FAIL_ON = (CheckName.BUILD, CheckName.WARNINGS, CheckName.SPARSE)


@dataclass(frozen=True)
class Item:
    patch: int          # 1-based index in the series
    check: CheckName
    reason: str


@dataclass
class Verdict:
    failures: list[Item] = field(default_factory=list)
    unverified: list[Item] = field(default_factory=list)   # NOT_RUN / PARTIAL, with why

    @property
    def passed(self) -> bool:
        return not self.failures


def judge(series: SeriesChecks, fail_on=DEFAULT_FAIL_ON, strict_checkpatch: bool = False) -> Verdict:
    fail_on = set(CheckName.parse(fail_on))
    v = Verdict()
    for p in series.patches:
        for check, r in p.results.items():
            if r.status in (Status.NOT_RUN, Status.PARTIAL):
                v.unverified.append(Item(p.index, check, r.summary()))
            if check is CheckName.CHECKPATCH:
                errors = [f for f in r.findings if f.severity is Severity.ERROR]
                if strict_checkpatch and errors:
                    v.failures.append(Item(p.index, check, f"{len(errors)} checkpatch error(s): "
                                           + "; ".join(f"{f.kind}: {f.message.splitlines()[0]}"
                                                       for f in errors[:3])))
            elif check in fail_on and r.status is Status.FAILED:
                v.failures.append(Item(p.index, check, r.reason or r.summary()))
    return v
