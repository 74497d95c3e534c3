"""QEMU command lines and the accelerator choice (KVM when it really works, else TCG).

`/dev/kvm` opening is not proof: on some hosts a KVM guest hangs silently at
"Booting from ROM" or `-cpu host` aborts. The probe boots the kernel for real
with a deadline and caches the verdict per (host kernel, QEMU version).
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.core.config import GuestConfig, cache_root
from harness.core.errors import HarnessError
from harness.core.util import read_json, write_json

QEMU = "qemu-system-x86_64"
PROBE_DEADLINE_S = 6.0


@dataclass
class QemuSpec:
    kernel: Path
    initrd: Path
    accel: str                      # "kvm" or "tcg"
    smp: int = 2
    memory_mb: int = 1024
    cmdline: str = ""
    ssh_port: int | None = None
    gdb_port: int | None = None
    qmp_path: Path | None = None    # a QMP monitor socket (snapshots)
    incoming: Path | None = None    # restore this saved machine instead of booting
    extra: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        append = " ".join(filter(None, [
            "console=ttyS0,115200", "earlyprintk=serial,ttyS0,115200", "panic=-1",
            "ignore_loglevel", "printk.time=1", "rdinit=/init", "nokaslr",
            "rcupdate.rcu_expedited=1", "no_hash_pointers", self.cmdline]))
        # debug-threads: vCPU threads named "CPU n/TCG", so the host can tell how
        # busy each one is (harness/vm/hostview.py)
        argv = [QEMU, "-name", "harness-guest,debug-threads=on", "-nodefaults", "-display", "none",
                "-no-reboot", "-m", str(self.memory_mb),
                # one CPU per socket: without ACPI the kernel learns its CPUs from
                # SeaBIOS's MP table, which lists one per package (`-smp 2` alone
                # is two cores in one package: the guest saw a single CPU)
                "-smp", f"{self.smp},sockets={self.smp},cores=1,threads=1",
                "-kernel", str(self.kernel), "-initrd", str(self.initrd), "-append", append,
                # mux: `Ctrl-a b` on the console sends a serial break, which with
                # the next key is a magic SysRq the kernel takes in its interrupt
                # handler, while a hung step holds the shell (harness/vm/sysrq.py)
                "-chardev", "stdio,id=con,mux=on,signal=off", "-serial", "chardev:con"]
        if self.accel == "kvm":
            argv += ["-accel", "kvm", "-cpu", "host"]
        else:
            argv += ["-accel", "tcg,thread=multi", "-cpu", "max"]
        if self.ssh_port:
            argv += ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
                     "-device", "e1000,netdev=n0"]
        if self.gdb_port:
            argv += ["-gdb", f"tcp:127.0.0.1:{self.gdb_port}"]
        if self.qmp_path:
            argv += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        if self.incoming:
            argv += ["-incoming", "exec:cat " + shlex.quote(str(self.incoming))]
        return argv + self.extra

    def machine_argv(self) -> list[str]:
        """The command line minus what does not shape the machine (monitor, restore source)."""
        return replace(self, qmp_path=None, incoming=None).argv()

    def shell_line(self) -> str:
        return shlex.join(self.argv())


def qemu_version() -> str:
    try:
        out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise HarnessError(f"{QEMU} not found or broken: install qemu-system-x86 (`make deps`)") from None
    return out.splitlines()[0].strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _probe_file() -> Path:
    return cache_root() / "kvm-probe.json"


def probe_kvm(kernel: Path, deadline_s: float = PROBE_DEADLINE_S) -> tuple[bool, str]:
    """Boot `kernel` under KVM until it prints "Linux version", within a deadline."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not accessible"
    argv = [QEMU, "-nodefaults", "-display", "none", "-no-reboot", "-m", "256",
            "-accel", "kvm", "-cpu", "host", "-kernel", str(kernel),
            "-append", "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1 rdinit=/nonexistent",
            "-serial", "stdio"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            chunk = proc.stdout.read() or b""
            seen += chunk
            if b"Linux version" in seen:
                return True, "KVM guest reached the kernel"
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace").strip().splitlines()
                return False, "QEMU exited under KVM: " + (err[-1] if err else f"status {proc.returncode}")
            time.sleep(0.05)
        return False, f"KVM guest printed nothing within {deadline_s:.0f}s (hangs before the kernel)"
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait()


def choose_accel(guest: GuestConfig, kernel: Path, say=None) -> str:
    """Resolve accel auto|kvm|tcg; the auto verdict is cached and said once."""
    if guest.accel in ("kvm", "tcg"):
        return guest.accel
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    host = f"{os.uname().release}|{qemu_version()}"
    cached = read_json(_probe_file(), {})
    if cached.get("host") == host:
        return cached["accel"]
    ok, why = probe_kvm(kernel)
    accel = "kvm" if ok else "tcg"
    write_json(_probe_file(), {"host": host, "accel": accel, "reason": why, "at": time.time()})
    say(f"accel auto: {'using KVM' if ok else 'KVM unusable, falling back to TCG'}: {why} "
        f"(cached in {_probe_file()})")
    return accel
