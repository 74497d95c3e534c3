"""`harness config check`: validate the harness YAML, the scenarios and the matrix."""

from __future__ import annotations

from harness.cli.common import add_config_option, config_of
from harness.core.errors import InputError
from harness.intake.patches import read_series
from harness.run.matrix import load_matrix
from harness.scenarios.spec import load_scenarios
from harness.cli import COMMANDS


def cmd_config_check(args) -> int:
    # the file may be given as `check FILE` or, like every other command, `--config FILE`
    if args.file and args.config and args.file != args.config:
        raise InputError(f"config check: two files given ({args.file} and --config {args.config})")
    args.config = args.file or args.config
    cfg = config_of(args)
    n_patches = sum(len(read_series(cfg.series_dir, s)) for s in
                    {s for v in cfg.variants.values() for s in v.series})
    scenarios = load_scenarios(cfg)
    extra = f", {len(scenarios)} scenarios"
    if cfg.matrix_file.exists():
        extra += f", matrix of {len(load_matrix(cfg, scenarios=scenarios).cells())} cells"
    print(f"{cfg.file}: ok ({len(cfg.variants)} variants, {len(cfg.profiles)} profiles, "
          f"{n_patches} patches{extra})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("config", help=COMMANDS["config"][1])
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    c = csub.add_parser("check", help="validate the harness YAML (and scenarios, matrix)")
    c.add_argument("file", nargs="?", help="harness YAML (default: configs/harness.yaml)")
    add_config_option(c)
    c.set_defaults(func=cmd_config_check)
