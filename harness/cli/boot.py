"""`harness boot`: boot a variant and run a command in it, or get its console."""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from harness.build.kernel import ensure_build
from harness.cli.common import add_config_option, config_of
from harness.vm.boot import make_guest
from harness.vm.guest import GuestDied
from harness.vm.qemu import free_port
from harness.cli import COMMANDS


def cmd_boot(args) -> int:
    cfg = config_of(args)
    build = ensure_build(cfg, cfg.variant(args.variant, "command line"),
                         cfg.profile(args.profile, "command line"))
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="harness-boot-"))
    gdb_port = free_port() if args.gdb else None
    guest = make_guest(cfg.guest, build, workdir, transport=args.transport, gdb_port=gdb_port,
                       accel=args.accel, root=cfg.root, snapshot=False if args.cold_boot else None)
    cmd = args.cmd
    try:
        with guest:
            how = "restored from a snapshot" if guest.restored else "booted"
            print(f"{how} {build.variant}/{build.profile} ({build.release}) in {guest.boot_s:.1f}s "
                  f"[{guest.spec.accel}, {guest.transport}]; console log: {guest.console_log}",
                  file=sys.stderr)
            if gdb_port:
                print(f"gdb stub: gdb {build.vmlinux} -ex 'target remote 127.0.0.1:{gdb_port}'",
                      file=sys.stderr)
            if not cmd:
                return guest.interact()
            line = cmd[0] if len(cmd) == 1 else shlex.join(cmd)
            res = guest.run(line, timeout=args.timeout or cfg.guest.step_timeout_s, step="boot-cmd")
            sys.stdout.write(res.output)
            return res.exit_status
    except GuestDied as died:
        print(f"harness: {died}", file=sys.stderr)
        print(f"console log: {workdir / 'console.log'}", file=sys.stderr)
        return 1


def register(sub) -> None:
    p = sub.add_parser("boot", help=COMMANDS["boot"][1],
                       description="Boot VARIANT and run CMD in the guest (its exit status is "
                                   "returned), or without CMD give an interactive console.")
    add_config_option(p)
    p.add_argument("variant", nargs="?", help="variant name (default from config)")
    p.add_argument("--profile", "-p", help="kconfig profile")
    p.add_argument("--transport", choices=("serial", "ssh"), help="command channel (default from config)")
    p.add_argument("--accel", choices=("kvm", "tcg"), help="force the accelerator")
    p.add_argument("--gdb", action="store_true", help="start QEMU with a gdb stub and say how to attach")
    p.add_argument("--cold-boot", action="store_true",
                   help="boot the kernel even if a snapshot of its booted guest exists")
    p.add_argument("--timeout", type=float, help="seconds for CMD (default: guest.step_timeout_s)")
    p.add_argument("--workdir", help="where console.log etc. go (default: a temp folder)")
    p.add_argument("cmd", nargs="*", help="command to run in the guest (after --)")
    p.set_defaults(func=cmd_boot, guest_command=True)   # `--` starts the guest command
