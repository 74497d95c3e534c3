"""Evidence at a step's deadline: what the kernel was doing when time ran out.

Taken just before a step is declared hung, while the guest is still alive,
in an order where each part cannot disturb the one before:

  1. host CPU of each vCPU thread over a short interval (is the guest
     computing or halted?), from /proc, without touching the guest;
  2. each vCPU's instruction pointer, a few samples through QEMU's monitor
     (works even when the kernel answers nothing);
  3. magic SysRq `l`, `w`, `t` over a serial break (harness/vm/sysrq.py):
     the per-CPU stacks, the blocked tasks, every task.

The dumps land in the console log, so the detector scans them like any other
kernel output (a healthy dump is no report; a lockup they reveal is). The
cell keeps the parsed result (`Evidence.to_json()`) and a one-line summary.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from harness.vm import sysrq
from harness.vm.console import Console
from harness.vm.hostview import PcSamples, Symbols, sample_pcs, vcpu_seconds


@dataclass
class Evidence:
    decision: dict                                   # the watch's verdict (harness/vm/watch.py)
    vcpu_busy: dict[int, float] | None = None        # share of a host CPU per vCPU, just before the dumps
    pcs: PcSamples = field(default_factory=PcSamples)
    answered: dict[str, bool] = field(default_factory=dict)   # SysRq key -> the kernel printed its header
    cpus: list[sysrq.Stack] = field(default_factory=list)
    blocked: list[sysrq.Stack] = field(default_factory=list)
    tasks: list[sysrq.Stack] = field(default_factory=list)    # user tasks (not kernel threads) from `t`
    console_lines: tuple[int, int] = (0, 0)          # the dumps, as console line indices [start, end)
    took_s: float = 0.0

    def summary(self) -> str:
        parts = []
        if self.vcpu_busy is not None:
            parts.append("vCPU host CPU " + ", ".join(f"cpu{c} {100 * v:.0f}%"
                                                      for c, v in sorted(self.vcpu_busy.items())))
        if self.cpus:
            parts.append("CPUs: " + ", ".join(f"{s.who} {'idle' if s.idle else 'in ' + s.path()}"
                                              for s in self.cpus))
        elif self.pcs.per_cpu:
            parts.append("vCPU PCs: " + ", ".join(f"cpu{c} at {f}" for c, f in self.pcs.top().items()))
        if self.answered.get("w"):
            parts.append("blocked: " + (", ".join(f"{s.who[5:]} in {s.path()}"
                                                  for s in self.blocked[:4]) or "none"))
        # shells waiting for their children or for console input are the harness's own
        busy = [s for s in self.tasks if s.where not in ("do_wait", "wait_woken", "n_tty_read", "?")]
        if busy:
            parts.append("user tasks: " + ", ".join(f"{s.who[5:]} in {s.path()}" for s in busy[:4]))
        silent = [k for k, ok in self.answered.items() if not ok]
        if silent:
            parts.append(f"no answer to SysRq {''.join(silent)} (interrupts off on every CPU?)")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"decision": self.decision, "summary": self.summary(),
                "vcpu_busy": None if self.vcpu_busy is None else
                {str(k): round(v, 2) for k, v in sorted(self.vcpu_busy.items())},
                "pcs": self.pcs.to_json(), "sysrq_answered": self.answered,
                "cpus": [s.to_json() for s in self.cpus], "blocked": [s.to_json() for s in self.blocked],
                "tasks": [s.to_json() for s in self.tasks],
                "console_lines": [self.console_lines[0] + 1, self.console_lines[1]],
                "took_s": round(self.took_s, 1)}


def _busy(pid: int, interval_s: float) -> dict[int, float] | None:
    a = vcpu_seconds(pid)
    t0 = time.monotonic()
    time.sleep(interval_s)
    b = vcpu_seconds(pid)
    dt = time.monotonic() - t0
    if a is None or b is None:
        return None
    return {c: max(0.0, b[c] - a[c]) / dt for c in b if c in a}


def collect(console: Console, child, pid: int, qmp_path, symbols: Symbols, decision: dict,
            patience: float = 1.0) -> Evidence:
    """Gather the evidence from a live guest (see the module doc). `patience` scales the
    waits for the kernel's answers (the run's slowdown factor)."""
    t0 = time.monotonic()
    ev = Evidence(decision)
    ev.vcpu_busy = _busy(pid, 2.0)
    ev.pcs = sample_pcs(qmp_path, symbols)
    start = len(console.lines)
    console.note("harness: step out of time; asking the kernel what it is doing (SysRq l, w, t)")
    header_s = min(30.0, 5.0 * patience)
    quiet_s = min(6.0, 1.5 * patience)
    for key in ("l", "w", "t"):
        if console.eof:
            break
        mark = len(console.lines)
        try:
            sysrq.send(child, key)
        except (OSError, ValueError):
            break
        state, idx, _ = console.wait_for(_header(key), mark, header_s)
        ev.answered[key] = state == "match"
        if state != "match":
            # a kernel that did not take this interrupt will not take the next one either
            # (interrupts off on the CPU the serial line goes to): do not wait three times
            break
        if state == "match":
            console.wait_quiet(quiet_s, cap=min(300.0, 60.0 * patience))
            dump = console.lines[idx:]
            if key == "l":
                ev.cpus = sysrq.parse_cpus(dump)
            elif key == "w":
                ev.blocked = [s for s in sysrq.parse_tasks(dump) if s.state == "D"]
            else:
                ev.tasks = sysrq.user_tasks(sysrq.parse_tasks(dump))
    ev.console_lines = (start, len(console.lines))
    ev.took_s = time.monotonic() - t0
    console.note(f"harness: evidence taken in {ev.took_s:.1f} s: {ev.summary()}")
    return ev


def _header(key: str) -> re.Pattern:
    return re.compile(r"sysrq: " + re.escape(sysrq.HEADERS[key]) + r"\s*$")
