"""`harness repro`: re-run one cell of a results folder."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import add_config_option, config_of
from harness.run.repro import ReproRequest, reproduce
from harness.cli import COMMANDS


def cmd_repro(args) -> int:
    req = ReproRequest(Path(args.cell), Path(args.results), shell=args.shell, gdb=args.gdb,
                       tree=Path(args.tree) if args.tree else None)
    return reproduce(config_of(args), req)


def register(sub) -> None:
    p = sub.add_parser("repro", help=COMMANDS["repro"][1],
                       description="Rebuild (or reuse) the cell's kernel and re-run it; says whether "
                                   "the outcome reproduced.")
    p.add_argument("cell", help="results/<run-id>/cells/<cell>")
    add_config_option(p)
    p.add_argument("--results", default="results")
    p.add_argument("--shell", action="store_true", help="stop before the failing step with a console")
    p.add_argument("--gdb", action="store_true", help="with a gdb stub (implies --shell)")
    p.add_argument("--tree", metavar="PATH", help="a kernel git tree with the BASE of a gated git range "
                                                   "(when the tree it was gated from is not here)")
    p.set_defaults(func=cmd_repro)
