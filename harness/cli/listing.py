"""`harness list`: variants, profiles and scenarios from the config."""

from __future__ import annotations

from harness.cli.common import add_config_option, config_of
from harness.scenarios.spec import load_scenarios
from harness.cli import COMMANDS


def cmd_list(args) -> int:
    cfg = config_of(args)
    print("variants:")
    for v in cfg.variants.values():
        series = " + ".join(v.series) or "(no series)"
        mark = " (default)" if v.name == cfg.default_variant else ""
        print(f"  {v.name:<16} {v.source}: {series}{mark}")
    print("profiles:")
    for p in cfg.profiles.values():
        mark = " (default)" if p.name == cfg.default_profile else ""
        print(f"  {p.name:<16} {p.base} + {', '.join(f.name for f in p.fragments)}{mark}")
    scenarios = load_scenarios(cfg)
    if scenarios:
        print("scenarios:")
        for s in scenarios.values():
            print(f"  {s.name:<40} {s.description}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("list", help=COMMANDS["list"][1])
    add_config_option(p)
    p.set_defaults(func=cmd_list)
