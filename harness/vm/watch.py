"""A step's deadline: slow or stuck?

When a step's budget runs out, the harness does not know yet whether the
kernel is stuck or the machine is slow. `StepWatch` decides from what the
host can see, looking at the last stretch of the budget (the window):

  - the kernel reported something during the step (a soft lockup, a hung
    task, an RCU stall, or any other report): stuck, no extension; a kernel
    that has reported is not trusted to finish;
  - new console lines in the window (the suite's progress lines, advancing
    counters; a line repeated verbatim does not count): progress;
  - the guest's vCPU threads used host CPU in the window while the kernel's
    own lockup/hung-task detectors stayed silent: progress;
  - neither: stuck.

A step making progress gets ONE extension of its budget, said in the cell;
at the end of the extension it is a hang whatever it is doing, and the
verdict says whether it was still progressing ("slow") or not ("stuck").
An extension never turns a stuck kernel into a pass: it only delays the
hang verdict, once.

The probe and the clock are injected, so the arithmetic is tested without a
guest (tests/test_hang_unit.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

# The window: the last part of the budget that the verdict looks at.
WINDOW_MAX_S = 60.0
WINDOW_MIN_S = 1.0
# vCPU threads using this much host CPU (CPU-seconds per second of window,
# summed over vCPUs) are computing. An idle guest's vCPUs halt: a few
# hundredths; a busy vCPU sharing a loaded host still gets well above this.
BUSY_CPU_FRACTION = 0.15

_STAMPS = re.compile(r"^(?:\[host [^\]]*\] ?)?(?:<\d>)?(?:\[\s*\d+\.\d+\]\s?)?(?:\[\s*[CT]\d+\]\s?)?")


class Probe(Protocol):
    """What the watch reads: a clock, the console, the vCPUs' CPU time, the kernel's reports."""

    def now(self) -> float: ...
    def line_count(self) -> int: ...
    def lines(self, start: int, end: int) -> list[str]: ...
    def vcpu_seconds(self) -> float | None: ...
    def reports(self) -> list[str]: ...


@dataclass
class Sample:
    t: float
    lines: int
    vcpu_s: float | None


@dataclass
class Decision:
    """What the watch says at a deadline."""

    kind: str                 # "extend", "stuck" (no progress) or "slow" (progress, but out of budget)
    why: str
    extension_s: float = 0.0
    window_s: float = 0.0
    new_lines: int = 0
    vcpu_s: float | None = None     # host CPU used by the vCPUs in the window
    reports: list[str] = field(default_factory=list)

    @property
    def hung(self) -> bool:
        return self.kind != "extend"

    def to_json(self) -> dict:
        return {"kind": self.kind, "why": self.why, "extension_s": round(self.extension_s, 1),
                "window_s": round(self.window_s, 1), "new_lines": self.new_lines,
                "vcpu_s": None if self.vcpu_s is None else round(self.vcpu_s, 2),
                "reports": self.reports}


def window_for(budget_s: float) -> float:
    return max(WINDOW_MIN_S, min(WINDOW_MAX_S, budget_s / 2))


def _text(line: str) -> str:
    return _STAMPS.sub("", line, count=1).strip()


def new_lines(before: list[str], window: list[str]) -> int:
    """Lines in the window whose text (timestamps stripped) the step had not printed before."""
    seen = {_text(l) for l in before}
    fresh = 0
    for line in window:
        t = _text(line)
        if t and not t.startswith("harness:") and t not in seen:
            seen.add(t)
            fresh += 1
    return fresh


class StepWatch:
    """Follows one step from its start to its verdict; see the module doc."""

    def __init__(self, probe: Probe, budget_s: float, start_line: int,
                 window_s: Callable[[float], float] = window_for):
        self.probe, self.budget_s, self.start_line = probe, budget_s, start_line
        self._window_of = window_s
        self.t0 = probe.now()
        self.deadline = self.t0 + budget_s
        self.extended = False
        self.extension_s = 0.0
        self.decisions: list[Decision] = []
        self._mark = self._sample()           # the window's start (the step's start until then)
        self._marked = False

    def _sample(self) -> Sample:
        return Sample(self.probe.now(), self.probe.line_count(), self.probe.vcpu_seconds())

    def _window_start(self) -> float:
        return self.deadline - self._window_of(self.budget_s)

    def wait_s(self) -> float:
        """How long the caller may wait for the step before calling check()."""
        target = self.deadline if self._marked else self._window_start()
        return max(0.0, target - self.probe.now())

    def check(self) -> Decision | None:
        """Call when wait_s() has run out: None (keep waiting) or a decision."""
        now = self.probe.now()
        if not self._marked and now >= self._window_start():
            if now < self.deadline:
                self._mark, self._marked = self._sample(), True
                return None
        if now < self.deadline:
            return None
        decision = self._decide()
        self.decisions.append(decision)
        if decision.kind == "extend":
            self.extended, self.extension_s = True, decision.extension_s
            self.deadline += decision.extension_s
            self._marked = False
        return decision

    def _decide(self) -> Decision:
        end = self._sample()
        window = max(1e-6, end.t - self._mark.t)
        reports = self.probe.reports()
        fresh = new_lines(self.probe.lines(self.start_line, self._mark.lines),
                          self.probe.lines(self._mark.lines, end.lines))
        cpu = None if end.vcpu_s is None or self._mark.vcpu_s is None else max(0.0, end.vcpu_s - self._mark.vcpu_s)
        d = Decision("stuck", "", window_s=window, new_lines=fresh, vcpu_s=cpu, reports=reports)
        if reports:
            d.why = f"the kernel reported during the step: {reports[0]}" + \
                    (f" (+{len(reports) - 1} more)" if len(reports) > 1 else "")
            return d
        signs = []
        if fresh:
            signs.append(f"{fresh} new console line{'s' if fresh != 1 else ''}")
        if cpu is not None and cpu >= BUSY_CPU_FRACTION * window:
            signs.append(f"vCPUs busy ({cpu:.1f} s of host CPU) while the kernel's lockup and "
                         "hung-task detectors stayed silent")
        seen = f"in the last {window:.0f} s"
        if not signs:
            cpu_txt = "unknown" if cpu is None else f"{cpu:.1f} s"
            d.why = f"no progress {seen}: no new console output, vCPU host CPU {cpu_txt}"
            return d
        if self.extended:
            d.kind = "slow"
            d.why = f"still making progress after its one extension ({'; '.join(signs)} {seen})"
            if not fresh:
                d.why += ": slow, or looping where the kernel's detectors do not look (the stacks say where)"
            return d
        d.kind, d.extension_s = "extend", self.budget_s
        d.why = f"still making progress ({'; '.join(signs)} {seen}): budget extended once by {self.budget_s:.0f} s"
        return d
