"""From a build to a guest object: initramfs, accelerator, QEMU spec."""

from __future__ import annotations

from pathlib import Path

from harness.build.kernel import Build
from harness.core.config import GuestConfig
from harness.vm.guest import Guest
from harness.build.initramfs import build_initramfs
from harness.vm.qemu import QemuSpec, choose_accel


def make_guest(guest_cfg: GuestConfig, build: Build, workdir: Path, *, transport: str | None = None,
               gdb_port: int | None = None, accel: str | None = None, root: Path | None = None,
               extra_cmdline: str = "", snapshot: bool | None = None) -> Guest:
    """A guest for this build (not started). `snapshot` overrides guest.snapshot from the config."""
    transport = transport or guest_cfg.transport
    initrd = build_initramfs(build, root, ssh=transport == "ssh")
    accel = accel or choose_accel(guest_cfg, build.bzimage)
    slowdown = guest_cfg.tcg_slowdown if accel == "tcg" else 1.0
    spec = QemuSpec(kernel=build.bzimage, initrd=initrd, accel=accel, smp=guest_cfg.smp,
                    memory_mb=guest_cfg.memory_mb,
                    cmdline=" ".join(filter(None, [guest_cfg.cmdline, extra_cmdline])),
                    gdb_port=gdb_port)
    return Guest(spec, workdir, transport=transport,
                 boot_timeout=guest_cfg.boot_timeout_s, slowdown=slowdown,
                 snapshot_dir=build.dir if (guest_cfg.snapshot if snapshot is None else snapshot) else None)
