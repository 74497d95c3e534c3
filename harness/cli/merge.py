"""`harness merge`: join shard results into one summary and JUnit."""

from __future__ import annotations

from pathlib import Path

from harness.output.results import merge_runs
from harness.cli import COMMANDS


def cmd_merge(args) -> int:
    out, status = merge_runs([Path(d) for d in args.dirs], Path(args.results))
    if args.junit:
        Path(args.junit).write_text((out.dir / "junit.xml").read_text())
    print(f"merged {len(out.cells)} cells from {len(args.dirs)} folders -> {out.dir}")
    return status


def register(sub) -> None:
    p = sub.add_parser("merge", help=COMMANDS["merge"][1])
    p.add_argument("dirs", nargs="+", help="results folders of the shards")
    p.add_argument("--results", default="results")
    p.add_argument("--junit", metavar="FILE")
    p.set_defaults(func=cmd_merge)
