"""`harness export kcidb`: a run's results as KCIDB I/O JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.cli import COMMANDS
from harness.core.util import write_atomic
from harness.output.kcidb import export_kcidb


def write_kcidb(results_dir: Path, output: Path, origin: str = "harness") -> None:
    """--kcidb FILE of run and gate: the finished run's KCIDB file, next to its other outputs."""
    data = export_kcidb(Path(results_dir), origin=origin)
    write_atomic(Path(output), json.dumps(data, indent=1) + "\n")


def cmd_export_kcidb(args) -> int:
    data = export_kcidb(Path(args.results_dir), origin=args.origin, base_url=args.base_url)
    text = json.dumps(data, indent=1) + "\n"
    counts = ", ".join(f"{len(data[k])} {k}" for k in ("checkouts", "builds", "tests", "issues", "incidents"))
    if args.output in (None, "-"):
        sys.stdout.write(text)
        print(f"KCIDB {data['version']['major']}.{data['version']['minor']}: {counts}", file=sys.stderr)
    else:
        write_atomic(Path(args.output), text)
        print(f"wrote {args.output} (KCIDB {data['version']['major']}.{data['version']['minor']}: {counts})",
              file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help=COMMANDS["export"][1],
                              description="Export a run's results folder for other systems.")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    k = formats.add_parser("kcidb", help="KCIDB I/O JSON (KernelCI), validated with kcidb-io",
                           description="Write the run as KCIDB I/O data: checkouts (source + series "
                                       "with its patchset hash) -> builds -> tests (each cell and "
                                       "each subtest), crash reports as issues and incidents. "
                                       "Validated against the schema before it is written.")
    k.add_argument("results_dir", nargs="?", default="results/latest", metavar="RESULTS_DIR",
                   help="a run's results folder (default: results/latest)")
    k.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    k.add_argument("--origin", default="harness",
                   help="KCIDB origin: the CI system's name, [a-z0-9_]+ (default: harness)")
    k.add_argument("--base-url", metavar="URL",
                   help="where RESULTS_DIR is published (log and file URLs under it); "
                        "default: file:// URLs of the local files")
    k.set_defaults(func=cmd_export_kcidb)
