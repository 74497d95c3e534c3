"""Magic SysRq without the guest's shell, and what its dumps say.

A step that hangs holds the guest shell, so the harness asks the kernel
directly: a serial break on the console (QEMU's mux chardev sends one for
`Ctrl-a b`) followed by a key is handled by the 8250 driver's interrupt
handler (uart_handle_break, then the next character within 5 s is a SysRq
key; CONFIG_MAGIC_SYSRQ_SERIAL), so it works while every task is stuck, as
long as a CPU still takes interrupts. The keys used:

  l  "Show backtrace of all active CPUs": an NMI backtrace per CPU (idle
     ones say "skipped: idling at ...")
  w  "Show Blocked State": every task in uninterruptible sleep (D), with its stack
  t  "Show State": every task, with its stack (a sleeping user process is S,
     so only this one shows it), then busy workqueues and held locks

The parsers here are pure text functions over console lines.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from harness.detect.formats import SKIP_FRAMES

# QEMU's mux chardev escape (Ctrl-a) then `b`: a break on the serial line
BREAK = "\x01b"

HEADERS = {
    "l": "Show backtrace of all active CPUs",
    "w": "Show Blocked State",
    "t": "Show State",
}

_PREFIX = re.compile(r"^(?:\[host [^\]]*\] ?)?(?:<\d>)?(?:\[\s*\d+\.\d+\]\s?)?(?:\[\s*[CT]\d+\]\s?)?")
_NMI = re.compile(r"NMI backtrace for cpu (\d+)(?: skipped: idling at (\S+))?")
_RUNNING = re.compile(r"CPU: \d+ (?:UID: \d+ )?PID: (\d+) Comm: (\S+)")
_CPU_SKIP = re.compile(r"CPU(\d+): backtrace skipped as idling")
_RIP = re.compile(r"RIP: 0010:(\S+?)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?:\s|$)")    # kernel mode only
_FRAME = re.compile(r"^\s*(\?\s+)?([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?:\s+\[(\S+)\])?")
_TASK = re.compile(r"task:(.{1,15}?)\s+state:(\S)\b.*?pid:\s*(\d+).*?ppid:\s*(\d+)")
_SYSRQ = re.compile(r"sysrq: (.*)")
# where an idle CPU sits (it took the SysRq interrupt while idle)
_IDLE = re.compile(r"^(?:default_idle\w*|do_idle|cpu_idle\w*|cpuidle\w*|arch_cpu_idle\w*|"
                   r"native_safe_halt|pv_native_safe_halt|acpi_idle\w*|mwait_idle\w*|cpu_startup_entry)$")

# frames that say how a CPU got somewhere, not where it is
_PLUMBING = re.compile(
    r"^(?:__schedule|schedule|schedule_timeout|schedule_hrtimeout_range(?:_clock)?|"
    r"schedule_preempt_disabled|io_schedule(?:_timeout)?|preempt_schedule\w*|__switch_to\w*|"
    r"context_switch|asm_\w+|sysvec_\w+|irq_exit\w*|__irq_exit_rcu|"
    r"ret_from_fork(?:_asm)?|kthread|entry_SYSCALL_64\w*|do_syscall_64|"
    r"dump_stack\w*|nmi_\w+|show_regs|__show_regs|default_do_nmi|exc_nmi|end_repeat_nmi)$")


# generic helpers a busy CPU is often caught in, beyond the detector's (locking, KASAN,
# printing): the clock read of a timed loop, lockdep's bookkeeping, delays
_GENERIC = re.compile("|".join(SKIP_FRAMES + (
    r"^ktime_get", r"seqcount", r"timekeeping", r"^read_tsc$", r"delay", r"cpu_relax", r"rep_nop",
    r"touch_\w*watchdog", r"hlock_class", r"held_lock", r"^__lock_acquire$", r"^lock_is_held",
    r"^native_", r"^pv_", r"^_raw_", r"^preempt_count", r"^check_preemption_disabled",
    r"^debug_smp_processor_id$", r"^[mu]?sleep", r"^ssleep$", r"^schedule_timeout")))


def strip(line: str) -> str:
    return _PREFIX.sub("", line, count=1)


def send(child, key: str) -> None:
    """Serial break, then the key (within the driver's 5 s window)."""
    child.send(BREAK)
    time.sleep(0.05)
    child.send(key)


@dataclass
class Stack:
    """One CPU's or one task's stack from a SysRq dump.

    For a CPU or task caught in an interrupt (the SysRq's own, or the NMI),
    `frames` are those of the code it interrupted, innermost first, without
    entry and scheduler plumbing; `where` is the interrupted instruction's
    function (the RIP line) or else the first of them."""

    who: str                  # "cpu0" or "task sleep (pid 42, S)"
    where: str
    frames: list[str] = field(default_factory=list)
    idle: bool = False
    state: str = ""
    pid: int | None = None
    ppid: int | None = None

    def culprit(self) -> str:
        """The innermost frame that is not a generic helper (locking, KASAN, clock reads)."""
        chain = [self.where] + [f for f in self.frames if f != self.where]
        return next((f for f in chain if not _GENERIC.search(f.split(" ")[0])), self.where)

    def path(self) -> str:
        """For a summary: the culprit and its caller, and where exactly the CPU was if elsewhere:
        "stall_busy_loop [harness_stall] < stall_quiet_loop [harness_stall] (at ktime_get)"."""
        chain = [self.where] + [f for f in self.frames if f != self.where]
        c = self.culprit()
        i = chain.index(c)
        text = " < ".join(chain[i:i + 2])
        return text + (f" (at {self.where})" if c != self.where else "")

    def to_json(self) -> dict:
        d = {"who": self.who, "where": self.where, "frames": self.frames[:24]}
        if self.idle:
            d["idle"] = True
        if self.state:
            d |= {"state": self.state, "pid": self.pid, "ppid": self.ppid}
        return d


def _frames(lines: list[str]) -> list[str]:
    """Reliable frame names (no `?` guesses) in order, without plumbing."""
    out = []
    for line in lines:
        m = _FRAME.match(line)
        if m and not m.group(1) and not _PLUMBING.match(m.group(2)):
            out.append(m.group(2) + (f" [{m.group(3)}]" if m.group(3) else ""))
    return out


_MARK = re.compile(r"^\s*</?(?:IRQ|NMI|TASK|SOFTIRQ|EOE)>\s*$")
# the dump's own machinery: a stack section holding one of these is ours, not the kernel's work
_DUMPER = re.compile(r"^(?:__handle_sysrq|handle_sysrq|sysrq_handle_\w+|nmi_cpu_backtrace|"
                     r"nmi_trigger_cpumask_backtrace|sched_show_task|show_state_filter)\b")


def _interrupted(body: list[str]) -> tuple[str, list[str]]:
    """(where, frames) of the work a stack dump caught, innermost first.

    A CPU answering an NMI shows the registers it was interrupted at (the first
    RIP line) and then its stack, interrupt work included (an irq_work is
    work); the CPU that took the SysRq interrupt shows the dumping itself in
    an <IRQ> section first: that section is dropped, and what it interrupted
    follows (its own RIP line after </IRQ>)."""
    sections: list[list[str]] = [[]]
    for line in body:
        if _MARK.match(line):
            sections.append([])
        else:
            sections[-1].append(line)
    kept = [sec for sec in sections
            if not any(_DUMPER.match(m.group(2)) for m in map(_FRAME.match, sec) if m)]
    context = [line for sec in kept for line in sec]
    frames = _frames(context)
    rip = next((m.group(1) for m in map(_RIP.search, context) if m), None)
    return rip or (frames[0] if frames else "?"), frames


def _blocks(lines: list[str], start: re.Pattern) -> list[tuple[re.Match, list[str]]]:
    out: list[tuple[re.Match, list[str]]] = []
    for line in lines:
        text = strip(line)
        m = start.search(text)
        if m:
            out.append((m, []))
        elif out:
            if _SYSRQ.match(text):
                break
            out[-1][1].append(text)
    return out


def parse_cpus(lines: list[str]) -> list[Stack]:
    """Per-CPU stacks from a `l` dump."""
    stacks = []
    for m, body in _blocks(lines, _NMI):
        cpu = int(m.group(1))
        if m.group(2):
            stacks.append(Stack(f"cpu{cpu}", m.group(2).split("+")[0], idle=True))
            continue
        where, frames = _interrupted(body)
        task = next((r for r in map(_RUNNING.search, body) if r), None)
        idle = bool(_IDLE.match(where.split(" ")[0]))
        who = f"cpu{cpu}" + (f" ({task.group(2)} pid {task.group(1)})" if task and not idle else "")
        stacks.append(Stack(who, where, frames, idle=idle))
    for line in lines:
        m = _CPU_SKIP.search(strip(line))
        if m:
            stacks.append(Stack(f"cpu{m.group(1)}", "idle", idle=True))
    return sorted(stacks, key=lambda s: int(s.who[3:].split(" ")[0]))


def parse_tasks(lines: list[str]) -> list[Stack]:
    """Task stacks from a `w` or `t` dump."""
    stacks = []
    for m, body in _blocks(lines, _TASK):
        name, state, pid, ppid = m.group(1).strip(), m.group(2), int(m.group(3)), int(m.group(4))
        where, frames = _interrupted(body)
        stacks.append(Stack(f"task {name} (pid {pid}, {state})", where, frames, state=state,
                            pid=pid, ppid=ppid))
    return stacks


def user_tasks(tasks: list[Stack]) -> list[Stack]:
    """Tasks that are not kernel threads (kthreadd is pid 2, its children have ppid 2) nor init."""
    return [t for t in tasks if t.pid not in (1, 2) and t.ppid not in (0, 2)]
