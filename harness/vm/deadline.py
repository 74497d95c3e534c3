"""One step's deadline on a live guest: the watch (harness/vm/watch.py) fed from the
guest's console, vCPU threads and the detector; one extension, or evidence and a hang.

The transports wait for a step in slices (`wait_s()`) and ask `keep_waiting()`
whenever a slice runs out; it answers False once the step is hung, and
`evidence()` then asks the kernel what it is doing before the guest is killed.
"""

from __future__ import annotations

import time

from harness.detect import scan_lines
from harness.vm.console import Console
from harness.vm.evidence import Evidence, collect
from harness.vm.hostview import Symbols, vcpu_seconds
from harness.vm.watch import Decision, StepWatch


class GuestProbe:
    """The watch's view of a live guest (see watch.Probe)."""

    def __init__(self, console: Console, pid: int | None, start_line: int):
        self.console, self.pid, self.start_line = console, pid, start_line

    def now(self) -> float:
        return time.monotonic()

    def line_count(self) -> int:
        return len(self.console.lines)

    def lines(self, start: int, end: int) -> list[str]:
        return self.console.lines[start:end]

    def vcpu_seconds(self) -> float | None:
        per = vcpu_seconds(self.pid) if self.pid else None
        return sum(per.values()) if per else None

    def reports(self) -> list[str]:
        return [r.title for r in scan_lines(self.console.lines[self.start_line:])]


class StepDeadline:
    def __init__(self, guest, budget_s: float, start_line: int, step: str):
        self.guest, self.step, self.budget_s = guest, step, budget_s
        pid = guest.child.pid if guest.child is not None else None
        self.watch = StepWatch(GuestProbe(guest.console, pid, start_line), budget_s, start_line)
        self.extension: Decision | None = None
        self.verdict: Decision | None = None

    def wait_s(self) -> float:
        return self.watch.wait_s()

    def keep_waiting(self) -> bool:
        """False once the step is hung (then `verdict` says why)."""
        if self.verdict is not None:
            return False
        if self.watch.wait_s() > 0:
            return True
        d = self.watch.check()
        if d is None:
            return True
        if d.kind == "extend":
            self.extension = d
            self.guest.console.note(f"harness: step {self.step!r} out of its {self.budget_s:.0f} s budget; {d.why}")
            return True
        self.verdict = d
        return False

    @property
    def total_s(self) -> float:
        return self.budget_s + self.watch.extension_s

    def describe(self) -> str:
        """The hang, in words: how long, and slow or stuck."""
        d = self.verdict
        ext = f" (its {self.budget_s:.0f} s budget extended once)" if self.extension else ""
        return f"step {self.step!r} did not finish within {self.total_s:.0f}s{ext}; {d.kind}: {d.why}"

    def evidence(self) -> Evidence:
        g = self.guest
        return collect(g.console, g.child, g.child.pid, g.spec.qmp_path, Symbols(g.system_map),
                       self.verdict.to_json(), patience=g.slowdown)
