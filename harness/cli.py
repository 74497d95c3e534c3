"""`harness` command line: one subcommand per job, every one with --help.

Exit statuses: 0 success, 1 test failure/report found, 2 bad input
(config, patch, usage), 3 harness error.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from pathlib import Path

from harness.errors import HarnessError, InputError


def _config(args):
    from harness.config import load_config
    return load_config(Path(args.config) if getattr(args, "config", None) else None)


def cmd_list(args) -> int:
    cfg = _config(args)
    print("variants:")
    for v in cfg.variants.values():
        series = " + ".join(v.series) or "(no series)"
        mark = " (default)" if v.name == cfg.default_variant else ""
        print(f"  {v.name:<16} {v.source}: {series}{mark}")
    print("profiles:")
    for p in cfg.profiles.values():
        mark = " (default)" if p.name == cfg.default_profile else ""
        print(f"  {p.name:<16} {p.base} + {', '.join(f.name for f in p.fragments)}{mark}")
    try:
        from harness.scenarios import load_scenarios
        scenarios = load_scenarios(cfg)
    except ImportError:
        scenarios = {}
    if scenarios:
        print("scenarios:")
        for s in scenarios.values():
            print(f"  {s.name:<40} {s.description}")
    return 0


def cmd_config_check(args) -> int:
    cfg = _config(args)
    from harness.patches import read_series
    n_patches = sum(len(read_series(cfg.series_dir, s)) for s in
                    {s for v in cfg.variants.values() for s in v.series})
    extra = ""
    try:
        from harness.scenarios import load_scenarios
        extra += f", {len(load_scenarios(cfg))} scenarios"
        from harness.matrix import load_matrix
        if cfg.matrix_file.exists():
            extra += f", matrix of {len(load_matrix(cfg).cells())} cells"
    except ImportError:
        pass
    print(f"{cfg.file}: ok ({len(cfg.variants)} variants, {len(cfg.profiles)} profiles, "
          f"{n_patches} patches{extra})")
    return 0


def cmd_build(args) -> int:
    cfg = _config(args)
    from harness.build import ensure_build
    b = ensure_build(cfg, cfg.variant(args.variant), cfg.profile(args.profile), force=args.force,
                     jobs=args.jobs)
    state = "built" if b.built else "up to date (no make started)"
    print(f"{b.variant}/{b.profile}: {state}: {b.release}, {b.bzimage}")
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="harness YAML (default: configs/harness.yaml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="variants, profiles and scenarios from the config")
    _add_common(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("config", help="configuration commands")
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    c = csub.add_parser("check", help="validate the harness YAML (and scenarios, matrix)")
    c.add_argument("file", nargs="?", help="harness YAML (default: configs/harness.yaml)")
    c.set_defaults(func=lambda a: cmd_config_check(argparse.Namespace(config=a.file or a.config)),
                   config=None)

    p = sub.add_parser("build", help="build a kernel variant (cached by content key)")
    _add_common(p)
    p.add_argument("variant", nargs="?", help="variant name (default from config)")
    p.add_argument("--profile", "-p", help="kconfig profile (default from config)")
    p.add_argument("--force", action="store_true", help="rebuild even if the key is unchanged")
    p.add_argument("-j", "--jobs", type=int, help="make -j (default: number of CPUs)")
    p.set_defaults(func=cmd_build)

    # stages that register their own subcommands
    for mod in ("harness.scan", "harness.guest_cli", "harness.canary", "harness.run_cli",
                "harness.report"):
        try:
            m = importlib.import_module(mod)
        except ImportError as exc:
            if exc.name != mod:
                raise
            continue
        if hasattr(m, "add_cli"):
            m.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after `--` is a guest command, never a positional of ours
    rest = None
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    if rest is not None:
        if not hasattr(args, "cmd"):
            parser.error(f"`--` is only for `harness boot`, not `{args.command}`")
        args.cmd = (args.cmd or []) + rest
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except HarnessError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return 0
