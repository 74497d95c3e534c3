"""`harness run`: the matrix as a CI gate.

Exit statuses: 0 every cell as expected; 1 a cell failed; 2 usage or config
error; 3 harness error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.cli.common import add_config_option, config_of, count
from harness.cli.export import write_kcidb
from harness.core.errors import InputError
from harness.output.results import RunResults, load_summary
from harness.run.matrix import load_matrix, select, shard
from harness.run.runner import RunOptions
from harness.run.session import inputs_header, run_session
from harness.scenarios.spec import load_scenarios
from harness.cli import COMMANDS


def default_jobs() -> int:
    # One guest per host core. A guest's vCPUs are busy only while a step
    # computes; most cells wait (vgem's 10 s fence timer, module loads, the
    # console), so on 2 cores two 2-vCPU guests ran the default matrix in
    # 95 s against 137 s for one. Builds never overlap guests (the runner
    # builds first), so they do not compete for the cores.
    return max(1, os.cpu_count() or 1)


def cmd_run(args) -> int:
    cfg = config_of(args)
    scenarios = load_scenarios(cfg)
    matrix = load_matrix(cfg, Path(args.matrix) if args.matrix else None, scenarios)
    chosen = select(matrix.cells(), args.k, scenarios)
    if not chosen:
        raise InputError(f"-k {' and '.join(f'({k})' for k in args.k)!r}: no cell selected (see "
                         "`harness run --list`)" if args.k else f"{matrix.file}: the matrix has no cell")
    cells = shard(chosen, args.shard, scenarios)
    if not cells:
        raise InputError(f"--shard {args.shard}: no cell in this shard ({len(chosen)} cells selected, "
                         f"fewer than the shards)")
    if args.list:
        for c in cells:
            print(c.id)
        return 0
    opts = RunOptions(jobs=args.jobs or default_jobs(), retries=args.retries,
                      results_root=Path(args.results), junit=args.junit, baseline=args.baseline,
                      transport=args.transport, accel=args.accel, canary=not args.no_canary,
                      snapshot=False if args.cold_boot else None,
                      fail_on_flaky=args.fail_on_flaky)
    if args.baseline:
        load_summary(Path(args.baseline))  # fail early on a bad path
    results = RunResults(opts.results_root, header=inputs_header(cfg) |
                         {"command": sys.argv, "matrix": str(matrix.file), "shard": args.shard})
    status = run_session(cfg, cells, opts, scenarios, results)
    if args.kcidb and status != 130:
        write_kcidb(results.dir, Path(args.kcidb))
    return status


def register(sub) -> None:
    p = sub.add_parser("run", help=COMMANDS["run"][1],
                       description="Expand configs/matrix.yaml, build what is missing, run every "
                                   "cell. Exit 0: all as expected; 1: a cell failed; 2: usage/config "
                                   "error; 3: harness error.")
    add_config_option(p)
    p.add_argument("--matrix", metavar="FILE", help="matrix YAML (default: configs/matrix.yaml)")
    p.add_argument("-k", action="append", metavar="EXPR",
                   help="select cells by a pytest-style expression: NAME, 'not X', 'X and Y', "
                        "'X or Y', parentheses; a NAME matches a substring or glob of the cell id "
                        "(variant.profile.scenario) or a scenario tag, ignoring case; repeated "
                        "-k: all must hold. E.g. -k 'stash and not vgem'")
    p.add_argument("-j", "--jobs", type=count(1), help="guests in parallel (default: one per host CPU)")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.add_argument("--junit", metavar="FILE", help="also write the JUnit XML here")
    p.add_argument("--kcidb", metavar="FILE", help="also write the run as KCIDB I/O JSON here "
                                                    "(as `harness export kcidb`)")
    p.add_argument("--retries", type=count(0), default=0, help="re-run a failed cell up to N times (flaky)")
    p.add_argument("--fail-on-flaky", action="store_true", help="a flaky cell fails the gate")
    p.add_argument("--baseline", metavar="RESULTS_DIR", help="list new failures / fixed cells vs a run")
    p.add_argument("--shard", metavar="K/N",
                   help="run the K-th of N slices: whole builds per shard (a shard builds only "
                        "what it runs) balanced by estimated cell time; `harness merge` joins them")
    p.add_argument("--transport", choices=("serial", "ssh"))
    p.add_argument("--accel", choices=("kvm", "tcg"))
    p.add_argument("--no-canary", action="store_true", help="skip the per-build canary")
    p.add_argument("--cold-boot", action="store_true",
                   help="boot every guest instead of restoring the snapshot of a booted one")
    p.add_argument("--list", action="store_true", help="print the selected cells and exit")
    p.set_defaults(func=cmd_run)
