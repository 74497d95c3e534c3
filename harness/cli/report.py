"""`harness report`: the static results page of a run."""

from __future__ import annotations

from pathlib import Path

from harness.output.html import write_report
from harness.output.html_parts import display_path
from harness.cli import COMMANDS


def cmd_report(args) -> int:
    out = write_report(Path(args.results_dir), baseline=Path(args.baseline) if args.baseline else None)
    print(f"wrote {display_path(out)}")
    if args.open:
        import webbrowser
        webbrowser.open(out.as_uri())
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help=COMMANDS["report"][1],
                              description="Write RESULTS_DIR/index.html: the matrix grid, each cell's "
                                          "detail, crash groups, build facts and timing, in one "
                                          "self-contained page (no network needed).")
    p.add_argument("results_dir", nargs="?", default="results/latest", metavar="RESULTS_DIR",
                   help="a run's results folder (default: results/latest)")
    p.add_argument("--baseline", metavar="OTHER", help="an earlier run's results folder to compare with")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=cmd_report)
