"""`harness bisect`: the first patch of a variant at which a scenario's outcome changes."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import add_config_option, config_of
from harness.run.bisect import BisectRequest, bisect
from harness.cli import COMMANDS


def cmd_bisect(args) -> int:
    cfg = config_of(args)
    cfg.variant(args.variant, "--variant")          # a typo is the command line's, named as such
    cfg.profile(args.profile, "--profile")
    res = bisect(cfg, BisectRequest(args.variant, args.scenario, args.profile,
                                                Path(args.results)))
    if res.culprit is None:
        print(f"outcome does not change across the stack: {res.outcomes[0]}")
        return 0
    p = res.culprit
    print(f"first patch that changes the outcome ({res.outcomes[0]} -> {res.outcomes[res.first_change]}): "
          f"{p.describe()} ({p.subject})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("bisect", help=COMMANDS["bisect"][1])
    add_config_option(p)
    p.add_argument("--variant", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--profile")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.set_defaults(func=cmd_bisect)
