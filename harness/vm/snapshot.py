"""Snapshots of a booted guest: boot once, restore every later guest from it.

Under TCG a debug kernel takes seconds to boot, and the matrix restarts its
guest after every crash. The first cold boot of a (kernel, initramfs, QEMU
command line) saves the whole machine at the shell prompt through QEMU's
migration stream (`migrate exec:cat > FILE`, then `cont`: that guest goes on
as usual); later guests start with `-incoming exec:cat FILE` and are at the
prompt a few hundred milliseconds later, in exactly the state the first one
was in: untainted, nothing loaded, same kernel log.

The key covers everything that decides the machine's state: QEMU's version,
its command line (minus the monitor socket and ports), and the kernel and
initramfs files' identity. Only serial guests without a gdb stub are
snapshotted: an SSH guest's key is baked into its kernel command line.

The QMP client here is the few commands this needs; QEMU's own `qemu.qmp`
package is not in Debian 12.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import time
from pathlib import Path

from harness.core.errors import HarnessError

SAVE_TIMEOUT_S = 60.0


class QmpError(HarnessError):
    exit_status = 3


class Qmp:
    """A QMP connection over a unix socket (QEMU started with -qmp unix:PATH,server=on,wait=off)."""

    def __init__(self, path: Path, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            try:
                self.sock.connect(str(path))
                break
            except OSError as exc:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError(f"QMP socket {path} did not come up: {exc}") from None
                time.sleep(0.01)
        self.sock.settimeout(timeout)
        self.f = self.sock.makefile("rwb")
        try:
            self._reply()                   # the greeting
        except (OSError, ValueError) as exc:
            raise QmpError(f"QMP greeting: {exc}") from None
        self.cmd("qmp_capabilities")

    def _reply(self) -> dict:
        while True:
            line = self.f.readline()
            if not line:
                raise QmpError("QEMU closed its QMP socket")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name: str, **args) -> dict:
        try:
            self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
            self.f.flush()
            reply = self._reply()
        except (OSError, ValueError) as exc:     # QEMU went away mid-command
            raise QmpError(f"QMP {name}: {exc}") from None
        if "error" in reply:
            raise QmpError(f"QMP {name}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return", {})

    def status(self) -> str:
        return self.cmd("query-status").get("status", "")

    def close(self) -> None:
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def _file_id(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def snapshot_key(qemu_version: str, argv: list[str], files: list[Path]) -> str:
    """What decides a booted machine's state: QEMU, its command line, the kernel and initrd."""
    h = hashlib.sha256()
    h.update(qemu_version.encode())
    h.update(json.dumps(argv).encode())
    for f in files:
        h.update(_file_id(f).encode())
    return h.hexdigest()[:16]


def save(qmp: Qmp, dest: Path, timeout: float = SAVE_TIMEOUT_S) -> float:
    """Save the running machine to dest (atomically), then let it run on. Returns seconds."""
    t0 = time.monotonic()
    _sweep_partial(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        qmp.cmd("migrate", uri="exec:cat > " + shlex.quote(str(tmp)))
        deadline = t0 + timeout
        while True:
            state = qmp.cmd("query-migrate")
            status = state.get("status")
            if status == "completed":
                break
            if status in ("failed", "cancelled") or time.monotonic() > deadline:
                raise QmpError(f"saving the guest failed: migration {status}: {state.get('error-desc', '')}")
            time.sleep(0.02)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        # the source machine stops when migration completes; it carries on as a guest
        if qmp.status() != "running":
            qmp.cmd("cont")
    return time.monotonic() - t0


def wait_restored(qmp: Qmp, timeout: float) -> str:
    """Wait until an -incoming guest has loaded its state and runs; returns the final status."""
    deadline = time.monotonic() + timeout
    while True:
        status = qmp.status()
        if status == "running" or time.monotonic() > deadline:
            return status
        if status not in ("inmigrate", "paused", "prelaunch", "restore-vm"):
            return status
        time.sleep(0.01)


def _sweep_partial(folder: Path) -> None:
    """Remove half-written snapshots of harness processes that are gone (an interrupted
    run's worker thread dies with the process, before its own clean-up)."""
    for part in folder.glob(".snapshot-*.tmp"):
        pid = part.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            part.unlink(missing_ok=True)


def owner_alive(lock: Path) -> bool:
    """Is the process whose pid a lock file holds still running? A lock without a pid
    (just created, or from an older harness) counts as alive for a minute."""
    try:
        pid = lock.read_text().strip()
        if pid.isdigit():
            return _pid_alive(int(pid))
        return time.time() - lock.stat().st_mtime < 60
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def prune_snapshots(keep: Path, most: int = 3) -> None:
    """Keep the newest few snapshots of a build: each is a few hundred MB."""
    snaps = sorted(keep.parent.glob("snapshot-*.state"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in snaps[most:]:
        if old != keep:
            old.unlink(missing_ok=True)
            old.with_suffix(".console.log").unlink(missing_ok=True)
