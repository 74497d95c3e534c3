"""A booted guest: QEMU under pexpect, the console log, and a command channel.

The serial console is the source of truth for the kernel log: a reader thread
drains it continuously into `console.log` (each line prefixed with the host
time since QEMU started) whatever the transport. Commands run in a child
shell, each in its own subshell, framed by markers so that kernel lines on
the same console never leak into a command's output. Each step also writes
`HARNESS-STEP:`/`HARNESS-STEP-END:` into /dev/kmsg so the kernel log itself
says which step a report belongs to.

Every way the guest can die is a `GuestDied` with a `kind`:
  no-boot      the shell never came up (last console lines attached)
  panic        "Kernel panic - not syncing" seen
  reset        QEMU exited / the guest reset without a panic
  timeout      a step overran its deadline (and its one extension, if it was
               still making progress: harness/vm/watch.py); the kernel was
               asked what it was doing first (`evidence`), then the guest killed
  qemu-failed  QEMU did not start (its stderr attached)
"""

from __future__ import annotations

import atexit
import base64
import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pexpect

from harness.core.errors import HarnessError
from harness.vm.calibrate import detector_script
from harness.vm.console import KERNEL_LINE, PANIC, Console
from harness.vm.deadline import StepDeadline
from harness.vm.qemu import QemuSpec, free_port, qemu_version
from harness.vm.snapshot import (Qmp, QmpError, owner_alive, prune_snapshots, save, snapshot_key,
                                 wait_restored)

READY = "HARNESS-READY"
_ids = itertools.count(1)

# QEMU processes started by this process: killed on exit, whatever happens
_live: set["Guest"] = set()


class GuestDied(HarnessError):
    exit_status = 1

    def __init__(self, kind: str, detail: str, last_lines: list[str] | None = None, evidence=None):
        self.kind, self.detail, self.last_lines = kind, detail, last_lines or []
        self.evidence = evidence          # harness.vm.evidence.Evidence of a step that hung
        text = f"guest {kind}: {detail}"
        if self.last_lines:
            text += "\n  last console lines:\n" + "\n".join("    " + l for l in self.last_lines[-15:])
        super().__init__(text)


@dataclass
class CommandResult:
    exit_status: int
    output: str
    duration_s: float
    kernel_log: list[str] = field(default_factory=list)
    step: str | None = None
    extension: str = ""         # why the step got its one extension of budget (harness/vm/watch.py)
    extension_s: float = 0.0    # and how long it was


class Guest:
    """One QEMU guest; use as a context manager so QEMU never outlives us."""

    def __init__(self, spec: QemuSpec, workdir: Path, transport: str = "serial",
                 boot_timeout: float = 60.0, slowdown: float = 1.0, snapshot_dir: Path | None = None,
                 system_map: Path | None = None):
        self.spec, self.workdir = spec, Path(workdir)
        self.system_map = system_map               # names the vCPUs' PCs in a hung step's evidence
        self.snapshot_dir = snapshot_dir
        self.restored: Path | None = None         # the snapshot this guest was restored from
        self.restore_failure: str | None = None   # why a snapshot could not be restored
        self.snapshot_save_s: float | None = None
        self.cpus: int | None = None               # CPUs the kernel brought up (vs spec.smp)
        self._qmp_dir: str | None = None
        self.transport, self.slowdown = transport, slowdown
        self.boot_timeout = boot_timeout * slowdown
        self.child: pexpect.spawn | None = None
        self.console: Console | None = None
        self.ssh = None
        self.boot_s: float | None = None
        self.dead: GuestDied | None = None
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    # -- life cycle -------------------------------------------------------
    def start(self) -> "Guest":
        if self.transport == "ssh":
            from harness.vm.ssh import new_key
            self.key, pub = new_key()
            self.spec.ssh_port = self.spec.ssh_port or free_port()
            # spaces cannot go on the kernel command line; init turns ~ back
            self.spec.cmdline = (self.spec.cmdline + f" harness.transport=ssh harness.sshkey="
                                 + pub.replace(" ", "~")).strip()
        snap = self._snapshot_file()
        if snap is not None and snap.exists():
            try:
                self._restore(snap)
                self._scale_detectors()
                return self
            except GuestDied as died:
                # a snapshot QEMU cannot load (other QEMU build, truncated file): drop it, boot
                snap.unlink(missing_ok=True)
                self.restore_failure = f"{died.kind}: {died.detail}"
                self.spec.incoming = None
                self.dead = None
        self._boot()
        if self.restore_failure:
            self.console.note(f"harness: {self.restore_failure}; dropped that snapshot and booted")
        if snap is not None and not snap.exists():
            self._save(snap)
        self._scale_detectors()
        return self

    def _scale_detectors(self) -> None:
        """The kernel's lockup/hung-task thresholds scaled like the budgets (after the
        snapshot: saved boots stay independent of the factor). Typed, not waited for:
        the shell runs it before the first step."""
        if self.slowdown > 1.0:
            self._send(detector_script(self.slowdown), "harness-scale-detectors")

    def _spawn(self, seed: list[str] | None = None) -> Path:
        # a QMP monitor always: snapshots, and a hung step's evidence (vCPU registers)
        if self.spec.qmp_path is None:
            self._qmp_dir = tempfile.mkdtemp(prefix="harness-qmp-")   # sun_path is short
            self.spec.qmp_path = Path(self._qmp_dir) / "qmp.sock"
        argv = self.spec.argv()
        (self.workdir / "qemu-cmdline.txt").write_text(self.spec.shell_line() + "\n")
        stderr_path = self.workdir / "qemu-stderr.txt"
        # stderr goes to a file so a QEMU that refuses to start can say why
        cmd = "exec " + " ".join(map(_q, argv)) + f" 2>{_q(str(stderr_path))}"
        try:
            self.child = pexpect.spawn("/bin/sh", ["-c", cmd], encoding="utf-8",
                                       codec_errors="replace", timeout=None,
                                       dimensions=(50, 512), echo=False,
                                       preexec_fn=_die_with_parent)
        except pexpect.ExceptionPexpect as exc:
            raise GuestDied("qemu-failed", str(exc)) from None
        # pexpect sleeps 50 ms before every send() by default: that was most of a step's latency
        self.child.delaybeforesend = None
        # and 0.1 s in close() and between signals: QEMU is SIGKILLed before close anyway
        self.child.ptyproc.delayafterclose = 0.01
        self.child.ptyproc.delayafterterminate = 0.01
        _live.add(self)
        self.console = Console(self.child, self.console_log, seed=seed)
        return stderr_path

    def _boot(self) -> None:
        t0 = time.monotonic()
        stderr_path = self._spawn()
        self._await_ready(0, t0, stderr_path)
        if self.transport == "ssh":
            self._connect_ssh(t0)

    def _await_ready(self, start: int, t0: float, stderr_path: Path) -> None:
        """Wait for the shell's READY at console line >= start; record the boot."""
        state, _, _ = self.console.wait_for(re.compile(re.escape(READY)), start, self.boot_timeout)
        if state != "match":
            self._die_at_boot(state, stderr_path)
        self.boot_s = time.monotonic() - t0
        self.cpus = _online_cpus(self.console.lines)

    # -- snapshots (see harness/snapshot.py) ---------------------------------
    def _snapshot_file(self) -> Path | None:
        if self.snapshot_dir is None or self.transport != "serial" or self.spec.gdb_port:
            return None
        key = snapshot_key(qemu_version(), self.spec.machine_argv(), [self.spec.kernel, self.spec.initrd])
        return self.snapshot_dir / f"snapshot-{key}.state"

    def _restore(self, snap: Path) -> "Guest":
        boot_log = snap.with_suffix(".console.log")
        seed = boot_log.read_text(errors="replace").splitlines() if boot_log.exists() else []
        seed.append(f"harness: restored from {snap.name}; the lines above are the boot it saved")
        self.spec.incoming = snap
        t0 = time.monotonic()
        stderr_path = self._spawn(seed=seed)
        start = len(self.console.lines)
        try:
            qmp = Qmp(self.spec.qmp_path, timeout=self.boot_timeout)
            try:
                status = wait_restored(qmp, self.boot_timeout)
            finally:
                qmp.close()
        except QmpError as exc:
            status = str(exc)
        if status != "running":
            err = stderr_path.read_text(errors="replace").strip() if stderr_path.exists() else ""
            self.kill()
            raise GuestDied("no-boot", f"restoring {snap.name} failed: {status} {err}".strip())
        # the restored shell already said READY before it was saved: ask again
        self.child.send("printf 'HARNESS-%s\\n' READY\n")
        self._await_ready(start, t0, stderr_path)
        self.restored = snap
        return self

    def _save(self, snap: Path) -> None:
        """Save this freshly booted guest for later ones; a failure only costs the speed-up."""
        lock = snap.with_suffix(".lock")
        try:
            if lock.exists() and not owner_alive(lock):
                lock.unlink(missing_ok=True)          # left by an interrupted harness
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            return                                    # another guest is saving it
        try:
            boot_log = snap.with_suffix(".console.log")
            tmp = boot_log.with_name(f".{boot_log.name}.{os.getpid()}")
            tmp.write_text(self.console_log.read_text(errors="replace"))
            os.replace(tmp, boot_log)
            qmp = Qmp(self.spec.qmp_path)
            try:
                self.snapshot_save_s = save(qmp, snap)
            finally:
                qmp.close()
            prune_snapshots(snap)
        except (QmpError, OSError) as exc:
            self.console.note(f"harness: could not save a snapshot of this boot: {exc}")
        finally:
            os.close(fd)
            lock.unlink(missing_ok=True)

    def _die_at_boot(self, state: str, stderr_path: Path) -> None:
        lines = list(self.console.lines[-20:])
        if state == "panic":
            self.console.wait_eof(5)
            self.kill()
            raise GuestDied("panic", "kernel panicked during boot", self.console.lines[-30:])
        if state == "eof":
            self.kill()
            err = stderr_path.read_text(errors="replace").strip() if stderr_path.exists() else ""
            if not self.console.lines:
                raise GuestDied("qemu-failed", f"QEMU exited before any console output: {err or '(no stderr)'}")
            raise GuestDied("no-boot", "QEMU exited before the shell came up" +
                            (f" ({err})" if err else ""), lines)
        self.kill()
        raise GuestDied("no-boot", f"no shell prompt within {self.boot_timeout:.0f}s", lines)

    def _connect_ssh(self, t0: float) -> None:
        from harness.vm.ssh import SshChannel
        self.ssh = SshChannel("127.0.0.1", self.spec.ssh_port, self.key)
        deadline = t0 + self.boot_timeout
        err = None
        while time.monotonic() < deadline:
            if self.console.eof:
                break
            try:
                self.ssh.connect(timeout=max(1.0, deadline - time.monotonic()))
                return
            except Exception as exc:  # noqa: BLE001 - any connect failure: retry until the deadline
                err = exc
                time.sleep(0.1)
        self.kill()
        raise GuestDied("no-boot", f"SSH to the guest never came up: {err}", self.console.lines[-20:])

    def kill(self) -> None:
        """Kill QEMU (its whole process group) and stop the console reader."""
        if self.ssh:
            self.ssh.close()
            self.ssh = None
        if self.child is not None:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.child.close(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self.console:
            self.console.close()
        if self._qmp_dir:
            shutil.rmtree(self._qmp_dir, ignore_errors=True)
            self._qmp_dir = None
            self.spec.qmp_path = None
        _live.discard(self)

    def alive(self) -> bool:
        return self.child is not None and self.child.isalive() and not self.console.eof

    def __enter__(self) -> "Guest":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()

    # -- commands ----------------------------------------------------------
    def run(self, cmd: str, timeout: float = 60.0, step: str | None = None) -> CommandResult:
        """Run a shell command in a child subshell; returns its status and output.

        `timeout` is the budget at reference speed, scaled by the slowdown. A step
        still making progress at its deadline gets one extension (said in the
        result's `extension`); otherwise, or at the end of the extension, the
        kernel is asked what it is doing and the guest is killed: GuestDied
        "timeout" with that evidence. Raises GuestDied too when the guest panics
        or exits (the guest is killed then).
        """
        if self.dead:
            raise self.dead
        timeout *= self.slowdown
        n = next(_ids)
        step_name = step or f"cmd{n}"
        script = _framed(cmd, step_name, n)
        start_line = len(self.console.lines)
        t0 = time.monotonic()
        deadline = StepDeadline(self, timeout, start_line, step_name)
        if self.transport == "ssh" and self.ssh:
            try:
                if _direct_ok(cmd):
                    status, out = self.ssh.run_in_shell(_typed(script, n), n, deadline.keep_waiting)
                else:
                    status, out = self.ssh.run(script, deadline.keep_waiting)
            except TimeoutError:
                return self._hung(deadline)
            except OSError as exc:
                state, _, _ = self.console.wait_for(re.compile(re.escape(PANIC)), start_line, 3.0)
                if self.console.panic_line is not None or state == "match":
                    return self._died("panic", f"kernel panicked during step {step_name!r}")
                return self._died("reset", f"SSH connection lost during step {step_name!r}: {exc}")
            end_re = re.compile(r"HARNESS-STEP-END: " + re.escape(step_name) + r"\b")
            self.console.wait_for(end_re, start_line, 2.0)
            output = re.sub(r"^@@S \d+\n", "", out, count=1)
        elif _direct_ok(cmd):
            # the common case: the framed script typed as is (no extra exec in the
            # guest; under TCG each exec costs tens of milliseconds)
            self._send(_typed(script, n), step_name)
            status, output = self._collect_serial(n, start_line, step_name, deadline)
        else:
            payload = base64.b64encode(script.encode()).decode()
            # the tty's canonical line buffer holds 4095 bytes: send long scripts in pieces
            pieces = [payload[i:i + 2048] for i in range(0, len(payload), 2048)]
            for piece in pieces[:-1]:
                self._send(f"echo {piece} >> /tmp/.b{n}\n", step_name)
            self._send(f"echo {pieces[-1]} >> /tmp/.b{n}; base64 -d /tmp/.b{n} > /tmp/.c{n}; "
                       f"sh /tmp/.c{n}; rc=$?; rm -f /tmp/.b{n} /tmp/.c{n}; printf '@@E %s %s\\n' {n} $rc\n",
                       step_name)
            status, output = self._collect_serial(n, start_line, step_name, deadline)
        klog = [l for l in self.console.lines[start_line:] if KERNEL_LINE.match(l)]
        ext = deadline.extension
        return CommandResult(status, output, time.monotonic() - t0, klog, step_name,
                             ext.why if ext else "", ext.extension_s if ext else 0.0)

    def _send(self, text: str, step_name: str) -> None:
        """Type into the console; a QEMU already gone (killed, exited) is a guest reset."""
        try:
            self.child.send(text)
        except (OSError, ValueError):
            self._died("reset", f"QEMU was gone when step {step_name!r} started")

    def _collect_serial(self, n: int, start_line: int, step_name: str,
                        deadline: StepDeadline) -> tuple[int, str]:
        """Wait for command n's end marker; its output is what lies between the markers."""
        end_re = re.compile(rf"@@E {n} (\d+)")
        pos = start_line
        while True:
            state, idx, m = self.console.wait_for(end_re, start_line, deadline.wait_s(), scan_from=pos)
            if state != "timeout":
                break
            pos = idx
            if not deadline.keep_waiting():
                return self._hung(deadline)
        if state == "panic":
            return self._died("panic", f"kernel panicked during step {step_name!r}")
        if state == "eof":
            return self._died("reset", f"QEMU exited during step {step_name!r}")
        status = int(m.group(1))
        # the kmsg end marker is printed before the shell's marker, but may trail it
        end_k = re.compile(r"HARNESS-STEP-END: " + re.escape(step_name) + r"\b")
        self.console.wait_for(end_k, start_line, 2.0)
        begin = re.compile(r"^@@S " + str(n) + "$")
        lines = self.console.lines[start_line:idx]
        out_lines, started = [], False
        for i, line in enumerate(lines, start_line):
            if not started:
                started = bool(begin.match(line))
                continue
            # neither kernel lines nor the harness's own notes (an extension) are output
            if not KERNEL_LINE.match(line) and i not in self.console.notes:
                out_lines.append(line)
        output = "\n".join(out_lines) + ("\n" if out_lines else "")
        return status, output

    def _hung(self, deadline: StepDeadline):
        """The step is out of time: ask the kernel what it is doing, then kill the guest."""
        evidence = None
        try:
            evidence = deadline.evidence()
        except Exception as exc:  # noqa: BLE001 - evidence is a bonus; the hang stands without it
            self.console.note(f"harness: could not take the evidence: {exc!r}")
        if self.console.panic_line is not None:
            # the kernel died while answering (or just before): that is the verdict
            return self._died("panic", f"kernel panicked during step {deadline.step!r}")
        return self._died("timeout", deadline.describe(), evidence=evidence)

    def _died(self, kind: str, detail: str, evidence=None):
        if kind == "panic":
            self.console.wait_eof(5.0)
        last = self.console.lines[-30:]
        self.kill()
        self.dead = GuestDied(kind, detail, last, evidence=evidence)
        raise self.dead

    def interact(self, banner: str = "interactive console (Ctrl-] to leave; Ctrl-a b then a key: "
                                     "magic SysRq; Ctrl-a a: a literal Ctrl-a)") -> int:
        """Hand the console to the user (Ctrl-] leaves; QEMU's mux escapes work)."""
        self.console.stop()
        # the banner only now: pexpect's switch to raw mode drops keys typed before it,
        # and stopping the console reader takes up to 50 ms
        print(banner, file=sys.stderr, flush=True)
        self.child.interact(escape_character=chr(29))
        return 0


_SYNTAX_OK: dict[str, bool] = {}


def _direct_ok(cmd: str) -> bool:
    """Can the command be typed into the guest shell as is? (short, and it parses)"""
    if len(cmd) > 2000:
        return False
    if cmd not in _SYNTAX_OK:
        try:
            ok = subprocess.run(["sh", "-n", "-c", cmd], capture_output=True, timeout=5).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        _SYNTAX_OK[cmd] = ok
    return _SYNTAX_OK[cmd]


_BROUGHT_UP = re.compile(r"smp: Brought up \d+ nodes?, (\d+) CPUs?")


def _online_cpus(lines: list[str]) -> int | None:
    """How many CPUs the kernel says it brought up (None if it did not say)."""
    for line in lines:
        m = _BROUGHT_UP.search(line)
        if m:
            return int(m.group(1))
    return None


def _typed(script: str, n: int) -> str:
    """A framed script as one compound command for a long-lived shell, ending in '@@E n STATUS'."""
    return "{ " + script.replace("exit $rc\n", "") + f"printf '@@E %s %s\\n' {n} $rc; }}\n"


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL if the harness dies, even by SIGKILL."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _q(s: str) -> str:
    return shlex.quote(s)


def _framed(cmd: str, step: str, n: int) -> str:
    """The script a step runs in the guest: markers around a subshell."""
    # SSH sessions start with dropbear's PATH, not init's
    return ("export PATH=/usr/share/harness:/sbin:/bin:/usr/sbin:/usr/bin\n"
            f"echo 'HARNESS-STEP: {step}' > /dev/kmsg\n"
            f"printf '@@S %s\\n' {n}\n"
            # stdin from /dev/null: a step must not eat the shell's own input
            f"( {cmd}\n) </dev/null\n"
            "rc=$?\n"
            f"echo 'HARNESS-STEP-END: {step} rc='$rc > /dev/kmsg\n"
            "exit $rc\n")


def kill_all() -> None:
    for g in list(_live):
        g.kill()


atexit.register(kill_all)
