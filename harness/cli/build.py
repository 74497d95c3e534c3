"""`harness build`: build one variant/profile (cached by content key)."""

from __future__ import annotations

from harness.build.kernel import ensure_build
from harness.cli import COMMANDS
from harness.cli.common import add_config_option, config_of, count


def cmd_build(args) -> int:
    cfg = config_of(args)
    b = ensure_build(cfg, cfg.variant(args.variant, "command line"),
                     cfg.profile(args.profile, "command line"), force=args.force,
                     jobs=args.jobs)
    state = "built" if b.built else "up to date (no make started)"
    print(f"{b.variant}/{b.profile}: {state}: {b.release}, {b.bzimage}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("build", help=COMMANDS["build"][1])
    add_config_option(p)
    p.add_argument("variant", nargs="?", help="variant name (default from config)")
    p.add_argument("--profile", "-p", help="kconfig profile (default from config)")
    p.add_argument("--force", action="store_true", help="rebuild even if the key is unchanged")
    p.add_argument("-j", "--jobs", type=count(1), help="make -j (default: number of CPUs)")
    p.set_defaults(func=cmd_build)
