"""What the per-patch checks hand to the gate: findings, a status per check, per patch.

A `Finding` is one diagnostic (a compiler warning, a sparse warning, a
checkpatch message, a build error) with where it is and whether patch k
brought it (`new`), as the kernel test robot marks them ("new ones prefixed
by >>"). A `CheckResult` says what one check concluded for one patch and,
when it could not look at everything, what it skipped and why: a check that
could not run is NOT_RUN with a reason, never PASSED.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

from harness.core.errors import InputError


class CheckName(str, enum.Enum):
    BUILD = "build"            # kernel + guest modules build at prefix k
    WARNINGS = "warnings"      # gcc W=1 on the objects the patch touches, vs prefix k-1
    SPARSE = "sparse"          # sparse (make C=2) on the same objects, vs prefix k-1
    CHECKPATCH = "checkpatch"  # the tree's scripts/checkpatch.pl --strict on patch k

    @classmethod
    def parse(cls, names) -> tuple["CheckName", ...]:
        """Names (strings or members) in canonical order; unknown names are input errors."""
        out = set()
        for n in names:
            try:
                out.add(cls(n) if not isinstance(n, cls) else n)
            except ValueError:
                raise InputError(f"unknown check {n!r} (known: {', '.join(c.value for c in cls)})") from None
        return tuple(c for c in cls if c in out)


ALL_CHECKS = tuple(CheckName)


class Status(str, enum.Enum):
    PASSED = "passed"     # ran on everything it had to look at; nothing new
    FAILED = "failed"     # something new (a warning, an error) or the build broke
    PARTIAL = "partial"   # nothing new in what it could look at, but some files were not checked
    NOT_RUN = "not-run"   # could not run at all (reason says why): never counts as passed


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    CHECK = "check"       # checkpatch's --strict CHECK level
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    check: CheckName
    file: str | None          # path in the tree (None: about the patch as a whole)
    line: int | None
    message: str              # first line, then continuation lines ("expected ..."), joined by "\n"
    severity: Severity = Severity.WARNING
    kind: str = ""            # gcc's [-Wflag], checkpatch's TYPE; "" for sparse
    function: str | None = None   # enclosing function (or top-level definition)
    column: int | None = None
    object: str | None = None     # the object whose compile reported it
    new: bool = True              # not present at prefix k-1 (by file + function + message)

    def location(self) -> str:
        if not self.file:
            return "(patch)"
        return self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.column else "")

    def render(self) -> str:
        """One robot-style line (continuations indented); new ones prefixed by >>."""
        head = f"{'>> ' if self.new else '   '}{self.location()}: {self.severity.value}: "
        first, *rest = self.message.split("\n")
        kind = f" [{self.kind}]" if self.kind and self.check is not CheckName.CHECKPATCH else ""
        tag = f"{self.kind}: " if self.kind and self.check is CheckName.CHECKPATCH else ""
        func = f" (in {self.function})" if self.function else ""
        return "\n".join([head + tag + first + kind + func] + ["      " + r for r in rest])

    def to_json(self) -> dict:
        d = asdict(self)
        d["check"], d["severity"] = self.check.value, self.severity.value
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Finding":
        d = dict(d)
        d["check"], d["severity"] = CheckName(d["check"]), Severity(d["severity"])
        return cls(**d)


@dataclass(frozen=True)
class Unchecked:
    """A file the check could not look at, and why ("not built in this config ...")."""
    file: str
    reason: str


@dataclass
class CheckResult:
    check: CheckName
    status: Status
    reason: str = ""                                        # why NOT_RUN / FAILED, one line
    findings: list[Finding] = field(default_factory=list)   # at prefix k, new ones marked
    fixed: list[Finding] = field(default_factory=list)      # at k-1 and gone at k
    checked: list[str] = field(default_factory=list)        # objects compiled / files looked at
    unchecked: list[Unchecked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)         # e.g. why these includers of a header
    log: str | None = None                                  # the raw output, for the reader
    duration_s: float = 0.0

    @property
    def new(self) -> list[Finding]:
        return [f for f in self.findings if f.new]

    def summary(self) -> str:
        s = self.status.value
        if self.status is Status.NOT_RUN:
            return f"{s}: {self.reason}"
        parts = []
        if self.findings or self.status is Status.FAILED:
            parts.append(f"{len(self.new)} new of {len(self.findings)}")
        if self.unchecked:
            parts.append(f"{len(self.unchecked)} file(s) not checked")
        if self.reason and self.status is Status.FAILED:
            parts.append(self.reason)
        return s + (f" ({'; '.join(parts)})" if parts else "")

    def to_json(self) -> dict:
        return {"check": self.check.value, "status": self.status.value, "reason": self.reason,
                "findings": [f.to_json() for f in self.findings],
                "fixed": [f.to_json() for f in self.fixed], "checked": list(self.checked),
                "unchecked": [asdict(u) for u in self.unchecked], "notes": list(self.notes),
                "log": self.log, "duration_s": self.duration_s}

    @classmethod
    def from_json(cls, d: dict) -> "CheckResult":
        return cls(check=CheckName(d["check"]), status=Status(d["status"]), reason=d.get("reason", ""),
                   findings=[Finding.from_json(f) for f in d.get("findings", [])],
                   fixed=[Finding.from_json(f) for f in d.get("fixed", [])],
                   checked=list(d.get("checked", [])),
                   unchecked=[Unchecked(**u) for u in d.get("unchecked", [])],
                   notes=list(d.get("notes", [])), log=d.get("log"), duration_s=d.get("duration_s", 0.0))


@dataclass
class PatchChecks:
    index: int                 # 1-based position in the series
    patch: str                 # the patch file (as given)
    subject: str
    commit: str                # the tree at prefix k (base + patches 1..k)
    files: list[str] = field(default_factory=list)   # files the patch touches
    results: dict[CheckName, CheckResult] = field(default_factory=dict)

    def result(self, check: CheckName | str) -> CheckResult | None:
        return self.results.get(CheckName(check))

    def to_json(self) -> dict:
        return {"index": self.index, "patch": self.patch, "subject": self.subject, "commit": self.commit,
                "files": list(self.files), "checks": {c.value: r.to_json() for c, r in self.results.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "PatchChecks":
        return cls(index=d["index"], patch=d["patch"], subject=d["subject"], commit=d["commit"],
                   files=list(d.get("files", [])),
                   results={CheckName(c): CheckResult.from_json(r) for c, r in d.get("checks", {}).items()})


@dataclass
class SeriesChecks:
    base_commit: str
    profile: str
    checks: tuple[CheckName, ...]
    patches: list[PatchChecks] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # phase -> seconds (prepare, build, ...)
    notes: list[str] = field(default_factory=list)

    def failed(self, checks=None) -> list[tuple[PatchChecks, CheckResult]]:
        """(patch, result) for every FAILED result, optionally only of the given checks."""
        wanted = set(CheckName.parse(checks)) if checks is not None else set(self.checks)
        return [(p, r) for p in self.patches for c, r in p.results.items()
                if c in wanted and r.status is Status.FAILED]

    def to_json(self) -> dict:
        return {"base_commit": self.base_commit, "profile": self.profile,
                "checks": [c.value for c in self.checks], "timings": dict(self.timings),
                "notes": list(self.notes), "patches": [p.to_json() for p in self.patches]}

    @classmethod
    def from_json(cls, d: dict) -> "SeriesChecks":
        return cls(base_commit=d["base_commit"], profile=d["profile"],
                   checks=tuple(CheckName(c) for c in d["checks"]),
                   patches=[PatchChecks.from_json(p) for p in d.get("patches", [])],
                   timings=dict(d.get("timings", {})), notes=list(d.get("notes", [])))
