"""`harness run`, `repro`, `merge` and `bisect`: the matrix as a CI gate.

Exit statuses of `run`: 0 every cell as expected; 1 a cell failed; 2 usage or
config error; 3 harness error.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from harness.errors import InputError


def _default_jobs(cfg) -> int:
    # One guest per host core. A guest's vCPUs are busy only while a step
    # computes; most cells wait (vgem's 10 s fence timer, module loads, the
    # console), so on 2 cores two 2-vCPU guests ran the default matrix in
    # 95 s against 137 s for one. Builds never overlap guests (the runner
    # builds first), so they do not compete for the cores.
    return max(1, os.cpu_count() or 1)


def _inputs_header(cfg) -> dict:
    from harness.qemu import qemu_version
    from harness.util import sha256_file
    frags = {p.name: {"base": p.base, "fragments": {f.name: sha256_file(f) for f in p.fragments}}
             for p in cfg.profiles.values()}
    series = {}
    for v in cfg.variants.values():
        for s in v.series:
            sfile = cfg.series_path(s) / "series"
            series[s] = {"series_sha256": sha256_file(sfile)}
    return {"inputs": {"config_file": str(cfg.file), "profiles": frags, "series": series,
                       "qemu": qemu_version(), "guest": vars(cfg.guest).copy()}}


def run_cells(cfg, cells, opts, scenarios, results, label="run") -> int:
    """Build, run and record; returns the gate's exit status."""
    from harness import guest as guest_mod
    from harness.runner import Reporter, Runner

    reporter = Reporter(len(cells))
    runner = Runner(cfg, scenarios, opts, results, reporter)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_term)
    interrupted = False
    try:
        keys = list(dict.fromkeys((c.variant, c.profile) for c in cells))
        runner.prepare_builds(keys)
        runner.run_cells(cells)
    except KeyboardInterrupt:
        interrupted = True
        runner.stop.set()
        guest_mod.kill_all()
    finally:
        signal.signal(signal.SIGTERM, old)
        guest_mod.kill_all()
    builds_json = [runner.build_json(k, i) for k, i in runner.builds.items()]
    results.builds = builds_json
    input_err = any(i.input_error for i in runner.builds.values())
    failed = [c for c in results.cells if not c["passed"]]
    harness_err = any(c["outcome"] == "error" and not c["detail"].startswith(("build failed", "kernel cannot"))
                      for c in failed)
    if interrupted:
        status = 130
    elif input_err:
        status = 2
    elif failed:
        status = 1
    elif harness_err:
        status = 3
    else:
        status = 0
    summary = results.write_summary(complete=not interrupted, exit_status=status,
                                     note="interrupted" if interrupted else "")
    if not interrupted:
        try:
            from harness.report import write_report
            write_report(results.dir, baseline=opts.baseline)
        except ImportError:
            pass
    if opts.junit:
        Path(opts.junit).write_text((results.dir / "junit.xml").read_text() if not interrupted else "")
    t = summary["totals"]
    reporter.event(f"{label}: {t['passed']}/{t['cells']} as expected, {t['failed']} failed, "
                   f"{t['flaky']} flaky, {t['n/a']} n/a -> {results.dir}"
                   + (" (INTERRUPTED: summary marked incomplete)" if interrupted else ""))
    if opts.baseline and not interrupted:
        print_comparison(summary, load_baseline(opts.baseline))
    return status


def load_baseline(path) -> dict:
    from harness.results import load_summary
    return load_summary(Path(path))


def compare(summary: dict, baseline: dict) -> dict:
    old = {c["id"]: c for c in baseline["cells"]}
    out = {"new_failures": [], "fixed": [], "new_signatures": [], "changed": []}
    for c in summary["cells"]:
        o = old.get(c["id"])
        if not o:
            continue
        if o["passed"] and not c["passed"]:
            out["new_failures"].append(c["id"])
        elif not o["passed"] and c["passed"]:
            out["fixed"].append(c["id"])
        if o["outcome"] != c["outcome"]:
            out["changed"].append(c["id"])
        old_sigs = {r["signature"] for r in o.get("reports", [])}
        if any(r["signature"] not in old_sigs for r in c.get("reports", [])):
            out["new_signatures"].append(c["id"])
    return out


def print_comparison(summary: dict, baseline: dict) -> None:
    cmp = compare(summary, baseline)
    print(f"compared with {baseline['run_id']}:")
    for k, label in (("new_failures", "new failures"), ("fixed", "fixed"),
                     ("new_signatures", "new crash signatures")):
        print(f"  {label}: {len(cmp[k])}")
        for cid in cmp[k]:
            print(f"    {cid}")


def cmd_run(args) -> int:
    from harness.config import load_config
    from harness.matrix import load_matrix, select, shard
    from harness.results import RunResults
    from harness.runner import RunOptions
    from harness.scenarios import load_scenarios

    cfg = load_config(Path(args.config) if args.config else None)
    scenarios = load_scenarios(cfg)
    matrix = load_matrix(cfg, Path(args.matrix) if args.matrix else None)
    cells = shard(select(matrix.cells(), args.k, scenarios), args.shard)
    if not cells:
        raise InputError("no cell selected (check -k / --shard against `harness list`)")
    if args.list:
        for c in cells:
            print(c.id)
        return 0
    opts = RunOptions(jobs=args.jobs or _default_jobs(cfg), retries=args.retries,
                      results_root=Path(args.results), junit=args.junit, baseline=args.baseline,
                      transport=args.transport, accel=args.accel, canary=not args.no_canary,
                      snapshot=False if args.cold_boot else None,
                      fail_on_flaky=args.fail_on_flaky)
    if args.baseline:
        load_baseline(args.baseline)  # fail early on a bad path
    results = RunResults(opts.results_root, header=_inputs_header(cfg) |
                         {"command": sys.argv, "matrix": str(matrix.file), "shard": args.shard})
    return run_cells(cfg, cells, opts, scenarios, results)


def cmd_repro(args) -> int:
    from harness.config import load_config
    from harness.matrix import Cell
    from harness.results import RunResults
    from harness.runner import RunOptions
    from harness.scenarios import load_scenarios
    from harness.util import read_json

    cell_dir = Path(args.cell)
    cell = read_json(cell_dir / "cell.json")
    if not cell:
        raise InputError(f"{cell_dir}: no cell.json (expected results/<run-id>/cells/<cell>)")
    cfg = load_config(Path(args.config) if args.config else None)
    scenarios = load_scenarios(cfg)
    if cell["scenario"] not in scenarios:
        raise InputError(f"scenario {cell['scenario']!r} is not in this checkout's configs")
    c = Cell(cell["variant"], cell["profile"], cell["scenario"])
    if args.shell or args.gdb:
        return _repro_interactive(cfg, c, scenarios[c.scenario], cell, args)
    results = RunResults(Path(args.results), header={"repro_of": str(cell_dir)})
    opts = RunOptions(jobs=1, results_root=Path(args.results), canary=False)
    status = run_cells(cfg, [c], opts, scenarios, results, label="repro")
    new = results.cells[0] if results.cells else None
    if new:
        old_key = (cell.get("build") or {}).get("key")
        new_key = (new.get("build") or {}).get("key")
        if old_key and new_key and old_key != new_key:
            print("note: the kernel build differs from the recorded one (patches, configs or "
                  "guest modules changed since); this is not an exact reproduction", file=sys.stderr)
        same = new["outcome"] == cell["outcome"] and \
            {r["signature"] for r in new["reports"]} == {r["signature"] for r in cell["reports"]}
        print(f"recorded: {cell['outcome']} {[r['title'] for r in cell['reports']]}")
        print(f"now:      {new['outcome']} {[r['title'] for r in new['reports']]}")
        print("REPRODUCED" if same else "NOT REPRODUCED")
        return 0 if same else 1
    return status


def _repro_interactive(cfg, cell, scenario, recorded, args) -> int:
    """Boot the cell's kernel, run the steps before the failing one, hand over the console."""
    import tempfile
    from harness.boot import make_guest
    from harness.build import ensure_build
    from harness.qemu import free_port

    build = ensure_build(cfg, cfg.variant(cell.variant), cfg.profile(cell.profile))
    failing = next((r["step"] for r in recorded.get("reports", []) if r.get("step")), None) or \
        next((s["name"] for s in recorded.get("steps", []) if not s.get("ok")), None)
    gdb_port = free_port() if args.gdb else None
    g = make_guest(cfg.guest, build, Path(tempfile.mkdtemp(prefix="harness-repro-")), gdb_port=gdb_port)
    with g:
        if gdb_port:
            print(f"gdb stub: gdb {build.vmlinux} -ex 'target remote 127.0.0.1:{gdb_port}'")
        for step in scenario.steps:
            if step.name == failing:
                print(f"stopped before step {step.name!r}: {step.run}")
                break
            r = g.run(step.run, timeout=step.timeout_s or cfg.guest.step_timeout_s, step=step.name)
            print(f"step {step.name}: exit {r.exit_status}")
        return g.interact("console (Ctrl-] to leave)")


def cmd_merge(args) -> int:
    from harness.results import RunResults, load_summary
    parts = [load_summary(Path(d)) for d in args.dirs]
    out = RunResults(Path(args.results), header={k: v for k, v in parts[0].items()
                                                  if k in ("inputs", "command", "matrix")})
    seen = {}
    for d, p in zip(args.dirs, parts):
        for b in p.get("builds", []):
            seen[(b["variant"], b["profile"])] = b
        for c in p["cells"]:
            if c["id"] in {x["id"] for x in out.cells}:
                raise InputError(f"cell {c['id']} is in more than one results folder")
            # cell folders are referenced where they are, not copied
            out.cells.append(dict(c, dir=str((Path(d) / c["dir"]).resolve())))
    out.builds = list(seen.values())
    complete = all(p.get("complete") for p in parts)
    status = 1 if any(not c["passed"] for c in out.cells) else 0
    out.write_summary(complete=complete, exit_status=status, note=f"merged from {len(parts)} shards")
    if args.junit:
        Path(args.junit).write_text((out.dir / "junit.xml").read_text())
    print(f"merged {len(out.cells)} cells from {len(parts)} folders -> {out.dir}")
    return status


def cmd_bisect(args) -> int:
    from harness.bisect import bisect
    return bisect(args)


def add_cli(sub) -> None:
    p = sub.add_parser("run", help="run the matrix (variants x profiles x scenarios)",
                       description="Expand configs/matrix.yaml, build what is missing, run every "
                                   "cell. Exit 0: all as expected; 1: a cell failed; 2: usage/config "
                                   "error; 3: harness error.")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--matrix", metavar="FILE", help="matrix YAML (default: configs/matrix.yaml)")
    p.add_argument("-k", action="append", metavar="PATTERN",
                   help="select cells whose id matches (glob or substring) or whose scenario has "
                        "this tag; repeatable; 'not X' excludes")
    p.add_argument("-j", "--jobs", type=int, help="guests in parallel (default: one per host CPU)")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.add_argument("--junit", metavar="FILE", help="also write the JUnit XML here")
    p.add_argument("--retries", type=int, default=0, help="re-run a failed cell up to N times (flaky)")
    p.add_argument("--fail-on-flaky", action="store_true", help="a flaky cell fails the gate")
    p.add_argument("--baseline", metavar="RESULTS_DIR", help="list new failures / fixed cells vs a run")
    p.add_argument("--shard", metavar="K/N", help="run the K-th of N slices of the cells")
    p.add_argument("--transport", choices=("serial", "ssh"))
    p.add_argument("--accel", choices=("kvm", "tcg"))
    p.add_argument("--no-canary", action="store_true", help="skip the per-build canary")
    p.add_argument("--cold-boot", action="store_true",
                   help="boot every guest instead of restoring the snapshot of a booted one")
    p.add_argument("--list", action="store_true", help="print the selected cells and exit")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("repro", help="re-run one cell of a results folder",
                       description="Rebuild (or reuse) the cell's kernel and re-run it; says whether "
                                   "the outcome reproduced.")
    p.add_argument("cell", help="results/<run-id>/cells/<cell>")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--results", default="results")
    p.add_argument("--shell", action="store_true", help="stop before the failing step with a console")
    p.add_argument("--gdb", action="store_true", help="with a gdb stub (implies --shell)")
    p.set_defaults(func=cmd_repro)

    p = sub.add_parser("merge", help="join shard results into one summary and JUnit")
    p.add_argument("dirs", nargs="+", help="results folders of the shards")
    p.add_argument("--results", default="results")
    p.add_argument("--junit", metavar="FILE")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("bisect", help="find the patch of a variant at which a scenario's outcome changes")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--variant", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--profile")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.set_defaults(func=cmd_bisect)
