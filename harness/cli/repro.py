"""`harness repro`: re-run one cell of a results folder."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import add_config_option, config_of
from harness.run.repro import ReproRequest, reproduce


def cmd_repro(args) -> int:
    req = ReproRequest(Path(args.cell), Path(args.results), shell=args.shell, gdb=args.gdb)
    return reproduce(config_of(args), req)


def register(sub) -> None:
    p = sub.add_parser("repro", help="re-run one cell of a results folder",
                       description="Rebuild (or reuse) the cell's kernel and re-run it; says whether "
                                   "the outcome reproduced.")
    p.add_argument("cell", help="results/<run-id>/cells/<cell>")
    add_config_option(p)
    p.add_argument("--results", default="results")
    p.add_argument("--shell", action="store_true", help="stop before the failing step with a console")
    p.add_argument("--gdb", action="store_true", help="with a gdb stub (implies --shell)")
    p.set_defaults(func=cmd_repro)
