"""From a build to a guest object: initramfs, accelerator, QEMU spec, budget factor."""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.build.initramfs import build_initramfs
from harness.build.kernel import Build
from harness.core.config import GuestConfig
from harness.vm.calibrate import Calibration, resolve
from harness.vm.guest import Guest
from harness.vm.qemu import QemuSpec, choose_accel, qemu_version


def make_guest(guest_cfg: GuestConfig, build: Build, workdir: Path, *, transport: str | None = None,
               gdb_port: int | None = None, accel: str | None = None, root: Path | None = None,
               extra_cmdline: str = "", snapshot: bool | None = None,
               slowdown: float | None = None) -> Guest:
    """A guest for this build (not started). `snapshot` overrides guest.snapshot from the config;
    `slowdown` the budget factor (default: the config's, else this host's calibration)."""
    transport = transport or guest_cfg.transport
    initrd = build_initramfs(build, root, ssh=transport == "ssh")
    accel = accel or choose_accel(guest_cfg, build.bzimage)
    if slowdown is None:
        slowdown = calibration_for(guest_cfg, build, accel=accel, root=root).factor
    spec = QemuSpec(kernel=build.bzimage, initrd=initrd, accel=accel, smp=guest_cfg.smp,
                    memory_mb=guest_cfg.memory_mb,
                    cmdline=" ".join(filter(None, [guest_cfg.cmdline, extra_cmdline])),
                    gdb_port=gdb_port)
    return Guest(spec, workdir, transport=transport,
                 boot_timeout=guest_cfg.boot_timeout_s, slowdown=slowdown if accel == "tcg" else 1.0,
                 snapshot_dir=build.dir if (guest_cfg.snapshot if snapshot is None else snapshot) else None,
                 system_map=build.objdir / "System.map")


def calibration_for(guest_cfg: GuestConfig, build: Build, *, accel: str | None = None, guests: int = 1,
                    fresh: bool = False, workdir: Path | None = None, root: Path | None = None,
                    say=None) -> Calibration:
    """This host's budget factor (harness/vm/calibrate.py), measured on guests of this build
    when `fresh` or when nothing is cached."""
    accel = accel or choose_accel(guest_cfg, build.bzimage)
    where = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="harness-calibrate-"))

    def start(i: int) -> Guest:
        # serial, from the build's snapshot like the cells' guests; unscaled budgets
        return make_guest(guest_cfg, build, where / f"g{i}", transport="serial", accel=accel, root=root,
                          slowdown=1.0).start()
    return resolve(guest_cfg, accel, qemu_version(), start, guests=guests, fresh=fresh, say=say)
