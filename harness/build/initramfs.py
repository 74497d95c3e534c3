"""Initramfs for a build: busybox, the build's modules, guest modules/programs, the
upstream kselftests built from the variant's tree, dropbear, init.

Built without root: a staging folder archived with `cpio -R 0:0`. Left
uncompressed on purpose: decompressing under TCG costs more than reading.
The per-run SSH key is passed on the kernel command line, so one archive
serves every run of a build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.build.kernel import Build
from harness.core.config import project_root
from harness.core.errors import HarnessError
from harness.core.util import file_lock, run, sha256_text, sha256_tree
from harness.suites.kselftest import GUEST_DIR as KSELFTEST_GUEST_DIR

RECIPE = "5"   # 5: the build's kselftests under /usr/lib/kselftests
BUSYBOX = Path("/bin/busybox")
DROPBEAR = Path("/usr/sbin/dropbear")

# PID 1 only sets up and supervises: an oops in a test kills a child shell,
# never init (which would panic the kernel and lose the rest of the run).
INIT = r"""#!/bin/sh
# Under TCG every exec costs tens of milliseconds: builtins where possible,
# one `mount -a` for every file system (etc/fstab).
export PATH=/usr/share/harness:/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=dumb
mount -a
transport=serial
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
    case "$arg" in
        harness.transport=*) transport=${arg#*=} ;;
        harness.sshkey=*) sshkey=${arg#*=} ;;
    esac
done
if [ "$transport" = ssh ]; then
    mkdir -p /dev/pts /root/.ssh
    mount -t devpts devpts /dev/pts
    # spaces cannot go on the kernel command line: the harness sent ~
    echo "$sshkey" | sed 's/~/ /g' > /root/.ssh/authorized_keys
    hostname guest
    ip link set lo up
    ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
    chmod 700 /root/.ssh; chmod 600 /root/.ssh/authorized_keys
    dropbear -s -r /etc/dropbear/dropbear_ecdsa_host_key -p 22 -E 2>/tmp/dropbear.log
fi
# The command shell: a child of init on the console (its controlling tty),
# restarted if it dies.
while true; do
    setsid -c /usr/share/harness/guest-shell </dev/ttyS0 >/dev/ttyS0 2>&1
    echo "harness: guest shell exited, restarting" >/dev/ttyS0
    sleep 1
done
"""

FSTAB = """proc /proc proc defaults 0 0
sysfs /sys sysfs defaults 0 0
devtmpfs /dev devtmpfs defaults 0 0
tmpfs /tmp tmpfs defaults 0 0
debugfs /sys/kernel/debug debugfs defaults 0 0
"""

# Each command runs in a subshell; echo is off so the console carries only
# what the commands and the kernel print.
GUEST_SHELL = r"""#!/bin/sh
stty -echo cols 512 2>/dev/null
cd /root
export PS1='' PS2=''
printf 'HARNESS-%s\n' READY
exec sh
"""


def _copy_with_libs(binary: Path, root: Path) -> None:
    dest = root / str(binary).lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, dest)
    out = run(["ldd", str(binary)], check=False).stdout
    for line in out.splitlines():
        parts = line.split()
        lib = next((p for p in parts if p.startswith("/")), None)
        if lib and Path(lib).exists():
            ldest = root / lib.lstrip("/")
            ldest.parent.mkdir(parents=True, exist_ok=True)
            if not ldest.exists():
                shutil.copy2(Path(lib).resolve(), ldest)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _install_kselftests(build: Build, stage: Path) -> None:
    """The build's kselftest programs, stripped (their debug info is megabytes the
    kernel would unpack at every cold boot), where `ksft-run` looks for them."""
    for rel in build.kselftests:
        src = build.kselftest_dir / rel
        if not src.is_file():
            raise HarnessError(f"kselftest program {src} listed in build.json is missing: rebuild "
                               f"{build.variant}/{build.profile} (harness build --force)")
        dest = stage / KSELFTEST_GUEST_DIR.lstrip("/") / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        run(["strip", "--strip-debug", str(dest)])


def initramfs_key(build: Build, root: Path, ssh: bool) -> str:
    scripts = root / "guest-modules" / "scripts"
    parts = [RECIPE, build.key, INIT, GUEST_SHELL, FSTAB, str(ssh),
             sha256_tree(scripts) if scripts.is_dir() else "",
             str(BUSYBOX.stat().st_size) if BUSYBOX.exists() else "no-busybox"]
    return sha256_text("\n".join(parts))[:16]


def build_initramfs(build: Build, root: Path | None = None, ssh: bool = False) -> Path:
    """Return the path of the build's initramfs, creating it when missing.

    dropbear and its libraries (half the archive) go in only for the SSH
    transport: every megabyte costs boot time when the kernel unpacks it.
    """
    root = root or project_root()
    if not BUSYBOX.exists():
        raise HarnessError(f"{BUSYBOX} missing: install busybox-static (`make deps`)")
    flavour = "ssh" if ssh else "serial"
    key = initramfs_key(build, root, ssh)
    out = build.dir / f"initramfs-{key}-{flavour}.cpio"
    with file_lock(build.dir / ".initramfs.lock"):
        if out.exists():
            return out
        stage = build.dir / "initramfs-stage"
        shutil.rmtree(stage, ignore_errors=True)
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "run",
                  "root", "lib", "var/log", "usr/share/harness"):
            (stage / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, stage / "bin/busybox")
        for applet in run([str(BUSYBOX), "--list-full"]).stdout.split():
            link = stage / applet
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink("/bin/busybox", link)
        _write(stage / "init", INIT, 0o755)
        _write(stage / "usr/share/harness/guest-shell", GUEST_SHELL, 0o755)
        _write(stage / "etc/fstab", FSTAB)
        _write(stage / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        _write(stage / "etc/group", "root:x:0:\n")
        _write(stage / "etc/shells", "/bin/sh\n")
        # modules: the build's own, then ours under extra/, then depmod
        moddir = stage / "lib/modules" / build.release
        src_mods = build.modroot / "lib/modules" / build.release
        if src_mods.is_dir():
            shutil.copytree(src_mods, moddir, symlinks=True,
                            ignore=shutil.ignore_patterns("build", "source"))
        extra = moddir / "extra"
        kmod = build.guest_dir / "kmod"
        for ko in sorted(kmod.glob("*.ko")) if kmod.is_dir() else []:
            extra.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ko, extra / ko.name)
            run(["strip", "--strip-debug", str(extra / ko.name)], check=False)
        if moddir.is_dir():
            run(["depmod", "-b", str(stage), "-F", str(build.objdir / "System.map"), build.release])
        prog = build.guest_dir / "prog"
        for name in build.guest_programs:
            shutil.copy2(prog / name, stage / "usr/bin" / name)
        _install_kselftests(build, stage)
        scripts = root / "guest-modules" / "scripts"
        if scripts.is_dir():
            for s in scripts.iterdir():
                if s.is_file():
                    shutil.copy2(s, stage / "usr/share/harness" / s.name)
                    os.chmod(stage / "usr/share/harness" / s.name, 0o755)
        if ssh:
            if not DROPBEAR.exists():
                raise HarnessError(f"{DROPBEAR} missing: install dropbear-bin (`make deps`)")
            _copy_with_libs(DROPBEAR, stage)
            hostkey = stage / "etc/dropbear/dropbear_ecdsa_host_key"
            hostkey.parent.mkdir(parents=True, exist_ok=True)
            run(["dropbearkey", "-t", "ecdsa", "-s", "256", "-f", str(hostkey)])
        tmp = out.with_suffix(".tmp")
        files = subprocess.run(["find", ".", "-mindepth", "1"], cwd=stage, check=True,
                               stdout=subprocess.PIPE).stdout
        with open(tmp, "wb") as f:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=stage, input=files,
                           stdout=f, check=True)
        os.replace(tmp, out)
        for old in build.dir.glob(f"initramfs-*-{flavour}.cpio"):
            if old != out:
                old.unlink(missing_ok=True)
        shutil.rmtree(stage, ignore_errors=True)
    return out
