"""What the host sees of a guest without asking it: vCPU time and where the vCPUs are.

Both work when the guest kernel is wedged beyond answering anything:

  - host CPU time of each vCPU thread (/proc/<qemu>/task/<tid>/stat); QEMU
    names them "CPU <n>/TCG" or "CPU <n>/KVM" (`-name ...,debug-threads=on`).
    A vCPU that halts (idle guest, or every task blocked) uses next to none;
    one that computes or spins uses what the host gives it.
  - the instruction pointer of each vCPU, read through QEMU's monitor
    (`info registers -a` over QMP, the machine paused for the moment it takes)
    and named from the build's System.map; sampled a few times, that is a
    poor man's profile of where each CPU is.
"""

from __future__ import annotations

import bisect
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.vm.snapshot import Qmp, QmpError

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_VCPU_COMM = re.compile(r"^CPU (\d+)/(?:TCG|KVM|HVF|WHPX)$")
_CPU_HEADER = re.compile(r"^CPU#(\d+)")
_RIP = re.compile(r"\bRIP=([0-9a-fA-F]+)")


def _thread_seconds(stat_path: Path) -> float | None:
    try:
        text = stat_path.read_text()
    except OSError:
        return None
    # comm may contain spaces and parentheses: the fields start after the last ')'
    fields = text[text.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK   # utime, stime


def vcpu_threads(pid: int) -> dict[int, int]:
    """vCPU index -> thread id, from QEMU's thread names; {} if the threads are unnamed."""
    out = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for t in tasks:
        try:
            comm = (t / "comm").read_text().strip()
        except OSError:
            continue
        m = _VCPU_COMM.match(comm)
        if m:
            out[int(m.group(1))] = int(t.name)
    return out


def vcpu_seconds(pid: int) -> dict[int, float] | None:
    """Host CPU seconds used so far by each vCPU thread (None: QEMU is gone or threads unnamed)."""
    threads = vcpu_threads(pid)
    if not threads:
        return None
    out = {}
    for cpu, tid in threads.items():
        s = _thread_seconds(Path(f"/proc/{pid}/task/{tid}/stat"))
        if s is not None:
            out[cpu] = s
    return out or None


class Symbols:
    """Kernel text addresses to `function+0xoff` from a System.map (no KASLR: `nokaslr`)."""

    def __init__(self, system_map: Path | None):
        self.addrs: list[int] = []
        self.names: list[str] = []
        if system_map is None:
            return
        try:
            lines = system_map.read_text(errors="replace").splitlines()
        except OSError:
            return
        pairs = []
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                pairs.append((int(parts[0], 16), parts[2]))
        pairs.sort()
        self.addrs = [a for a, _ in pairs]
        self.names = [n for _, n in pairs]

    def name(self, addr: int) -> str:
        i = bisect.bisect_right(self.addrs, addr) - 1
        # module text lies above the kernel image: System.map cannot name it
        if i < 0 or addr >= 0xffffffffa0000000 or addr - self.addrs[i] > 0x100000:
            return f"{addr:#x}" + (" (module)" if addr >= 0xffffffffa0000000 else "")
        return f"{self.names[i]}+{addr - self.addrs[i]:#x}"


@dataclass
class PcSamples:
    """Where each vCPU was, over a few samples (function names, most frequent first)."""

    per_cpu: dict[int, list[str]] = field(default_factory=dict)
    error: str | None = None

    def top(self) -> dict[int, str]:
        out = {}
        for cpu, names in sorted(self.per_cpu.items()):
            funcs = [n.split("+")[0] for n in names]
            out[cpu] = max(dict.fromkeys(funcs), key=funcs.count) if funcs else "?"
        return out

    def to_json(self) -> dict:
        return {"per_cpu": {str(k): v for k, v in sorted(self.per_cpu.items())}, "top": {
            str(k): v for k, v in self.top().items()}, "error": self.error}


def parse_registers(text: str) -> dict[int, int]:
    """`info registers -a` output -> vCPU index -> RIP."""
    out, cpu = {}, 0
    for line in text.splitlines():
        m = _CPU_HEADER.match(line.strip())
        if m:
            cpu = int(m.group(1))
            continue
        m = _RIP.search(line)
        if m and cpu not in out:
            out[cpu] = int(m.group(1), 16)
    return out


def sample_pcs(qmp_path: Path | None, symbols: Symbols, samples: int = 5,
               interval_s: float = 0.2) -> PcSamples:
    """Read every vCPU's instruction pointer a few times through the monitor."""
    res = PcSamples()
    if qmp_path is None:
        res.error = "no QEMU monitor"
        return res
    try:
        qmp = Qmp(qmp_path, timeout=5.0)
    except QmpError as exc:
        res.error = str(exc)
        return res
    try:
        for i in range(samples):
            # paused for the read, so every vCPU's registers are from one instant
            qmp.cmd("stop")
            try:
                text = qmp.cmd("human-monitor-command", **{"command-line": "info registers -a"})
            finally:
                qmp.cmd("cont")
            for cpu, rip in parse_registers(text if isinstance(text, str) else "").items():
                res.per_cpu.setdefault(cpu, []).append(symbols.name(rip))
            if i + 1 < samples:
                time.sleep(interval_s)
    except QmpError as exc:
        res.error = str(exc)
    finally:
        qmp.close()
    return res
