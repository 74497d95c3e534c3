"""`harness canary`: can this build see what we look for?"""

from __future__ import annotations

import time
from harness.build.kernel import ensure_build
from harness.cli.common import add_config_option, config_of
from harness.run.canary import canary_for_build
from harness.cli import COMMANDS


def cmd_canary(args) -> int:
    cfg = config_of(args)
    build = ensure_build(cfg, cfg.variant(args.variant, "command line"),
                         cfg.profile(args.profile, "command line"))
    t0 = time.monotonic()
    rows = canary_for_build(cfg, build, force=args.force)
    print(f"canary {build.variant}/{build.profile} ({build.release}), {time.monotonic() - t0:.1f}s:")
    print(f"  {'class':<14} {'trigger':<40} {'seen':<5} title")
    for r in rows:
        print(f"  {r['class']:<14} {r['trigger']:<40} {'yes' if r['seen'] else 'NO':<5} "
              f"{r['title'] or r['detail']}")
    blind = [r["class"] for r in rows if not r["seen"]]
    if blind:
        print(f"blind to: {', '.join(blind)}")
    return 1 if blind else 0


def register(sub) -> None:
    p = sub.add_parser("canary", help=COMMANDS["canary"][1],
                       description="Trigger one report of each class the profile claims to catch "
                                   "and check the detector sees it. Exit 1 if the build is blind "
                                   "to any class.")
    add_config_option(p)
    p.add_argument("variant", nargs="?")
    p.add_argument("--profile", "-p")
    p.add_argument("--force", action="store_true", help="ignore the cached verdict")
    p.set_defaults(func=cmd_canary)
