"""`harness gate`: gate a patch series against its base, with the culprit patch named.

Exit statuses: 0 no regression; 1 a regression (or a failing per-patch
check); 2 bad input (the series, a patch that does not apply, options);
3 harness error (the base does not build, QEMU failed, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.cli import COMMANDS
from harness.cli.common import add_config_option, config_of, count
from harness.cli.export import write_kcidb
from harness.output.gate_report import gate_text
from harness.run.gate import ALL_GATE_CHECKS, GateRequest, run_gate


def _checks(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    bad = [n for n in names if n not in ALL_GATE_CHECKS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"{', '.join(bad) or text!r}: not a check (known: "
                                         f"{', '.join(ALL_GATE_CHECKS)})")
    return names


def cmd_gate(args) -> int:
    req = GateRequest(series=args.series, on=args.on, tree=Path(args.tree) if args.tree else None,
                      select=args.k, matrix=Path(args.matrix) if args.matrix else None,
                      results_root=Path(args.results), jobs=args.jobs or max(1, os.cpu_count() or 1),
                      retries=args.retries, bisect=not args.no_bisect, accel=args.accel,
                      transport=args.transport, snapshot=False if args.cold_boot else None,
                      canary=not args.no_canary, checks=args.checks,
                      strict_checkpatch=args.strict_checkpatch)
    summary, gdir = run_gate(config_of(args), req)
    if args.junit:
        Path(args.junit).write_text((gdir / "gate-junit.xml").read_text())
    if args.kcidb:
        write_kcidb(gdir, Path(args.kcidb))
    print(gate_text(summary, gdir))
    sys.stdout.flush()
    return summary.exit_status


def register(sub) -> None:
    p = sub.add_parser("gate", help=COMMANDS["gate"][1], description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("series", nargs="+", metavar="SERIES",
                   help="an mbox (git format-patch --stdout, a saved thread, b4 am output), a folder of "
                        "patches (quilt series file or name order), or a git range BASE..TIP (with --tree)")
    add_config_option(p)
    p.add_argument("--on", metavar="VARIANT", help="the configured variant to stack the series on "
                                                   "(default: the config's default variant)")
    p.add_argument("--tree", metavar="PATH", help="the kernel git tree of a range (default: the current "
                                                   "directory)")
    p.add_argument("-k", action="append", metavar="EXPR", help="select cells, as `harness run -k`")
    p.add_argument("--matrix", metavar="FILE", help="whose scenarios (default: configs/matrix.yaml)")
    p.add_argument("-j", "--jobs", type=count(1), help="guests in parallel (default: one per host CPU)")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.add_argument("--junit", metavar="FILE", help="also write the gate's JUnit XML here")
    p.add_argument("--kcidb", metavar="FILE", help="also write the series run as KCIDB I/O JSON here")
    p.add_argument("--retries", type=count(0), default=0, help="re-run a failed cell up to N times (flaky)")
    p.add_argument("--no-bisect", action="store_true", help="do not search the patch that brought a regression")
    p.add_argument("--checks", type=_checks, default=ALL_GATE_CHECKS, metavar="LIST",
                   help="which answers, comma-separated (default: all): build (every patch builds, "
                        "guest modules too), warnings (new W=1 warnings in the files a patch touches), "
                        "sparse (new sparse warnings there), checkpatch (the tree's checkpatch.pl "
                        "--strict), runtime (the scenarios on the base and with the series)")
    p.add_argument("--strict-checkpatch", action="store_true",
                   help="checkpatch errors fail the gate (by default they are reported)")
    p.add_argument("--transport", choices=("serial", "ssh"))
    p.add_argument("--accel", choices=("kvm", "tcg"))
    p.add_argument("--no-canary", action="store_true", help="skip the per-build canary")
    p.add_argument("--cold-boot", action="store_true",
                   help="boot every guest instead of restoring the snapshot of a booted one")
    p.set_defaults(func=cmd_gate)
