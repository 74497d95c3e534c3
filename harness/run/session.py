"""One run of a set of cells, start to end: builds, guests, results on disk, exit status.

`run_session` is what `harness run`, `repro`, `bisect` and `gate` share: it
builds what the cells need, runs them, writes the results folder (summary,
JUnit, page) and returns the gate's exit status. Ctrl-C and SIGTERM kill every
QEMU and leave a summary marked incomplete.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from harness.core.config import HarnessConfig
from harness.core.errors import HarnessError
from harness.core.util import sha256_file
from harness.output.html import write_report
from harness.output.results import RunResults, load_summary
from harness.run.matrix import Cell
from harness.run.runner import Reporter, Runner, RunOptions
from harness.vm import guest as guest_mod
from harness.vm.boot import calibration_for
from harness.vm.calibrate import last_calibration
from harness.vm.qemu import qemu_version


def inputs_header(cfg: HarnessConfig) -> dict:
    """What the run was made of, for summary.json: profiles, series, QEMU, guest."""
    frags = {p.name: {"base": p.base, "fragments": {f.name: sha256_file(f) for f in p.fragments}}
             for p in cfg.profiles.values()}
    series = {}
    for v in cfg.variants.values():
        for s in v.series:
            sfile = cfg.series_path(s) / "series"
            series[s] = {"series_sha256": sha256_file(sfile)}
    return {"inputs": {"config_file": str(cfg.file), "profiles": frags, "series": series,
                       "qemu": qemu_version(), "guest": vars(cfg.guest).copy()}}


def run_session(cfg: HarnessConfig, cells: list[Cell], opts: RunOptions, scenarios: dict,
                results: RunResults, label: str = "run") -> int:
    """Build, run and record; returns the gate's exit status."""
    reporter = Reporter(len(cells))
    runner = Runner(cfg, scenarios, opts, results, reporter)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_term)
    interrupted = False
    try:
        keys = list(dict.fromkeys((c.variant, c.profile) for c in cells))
        runner.prepare_builds(keys)
        calibrate(cfg, runner, opts, results)
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
        write_report(results.dir, baseline=opts.baseline)
    if opts.junit:
        Path(opts.junit).write_text((results.dir / "junit.xml").read_text() if not interrupted else "")
    t = summary["totals"]
    reporter.event(f"{label}: {t['passed']}/{t['cells']} as expected, {t['failed']} failed, "
                   f"{t['flaky']} flaky, {t['n/a']} n/a -> {results.dir}"
                   + (" (INTERRUPTED: summary marked incomplete)" if interrupted else ""))
    if opts.baseline and not interrupted:
        print_comparison(summary, load_summary(Path(opts.baseline)))
    return status


def calibrate(cfg: HarnessConfig, runner: Runner, opts: RunOptions, results: RunResults) -> None:
    """Measure this host's budget factor once for the run, with as many guests at once as
    the run will have; recorded in summary.json (`calibration`, `inputs.guest.tcg_slowdown`)."""
    build = next((i.build for i in runner.builds.values() if i.build is not None), None)
    if build is None or runner.stop.is_set():
        return
    runner.reporter.set_phase("build", "calibrating")
    try:
        cal = calibration_for(cfg.guest, build, accel=opts.accel, guests=max(1, opts.jobs), fresh=True,
                              workdir=results.dir / "calibration", root=cfg.root, say=runner.reporter.event)
    except HarnessError as exc:
        # the cells will meet whatever stopped the calibration guests; budgets from the
        # last calibration of this host meanwhile
        cal = last_calibration(cfg.guest, opts.accel or "tcg", qemu_version(), why=str(exc))
        runner.reporter.event(f"calibration failed: {exc}; {cal.describe()}")
    if cal.source != "measured":          # a measurement says so itself
        runner.reporter.event(f"calibration: {cal.describe()}")
    runner.slowdown = cal.factor
    results.header["calibration"] = cal.to_json() | {"describe": cal.describe()}
    results.header.setdefault("inputs", {}).setdefault("guest", {})["tcg_slowdown"] = cal.factor


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


def print_comparison(summary: dict, baseline: dict, stream=None) -> None:
    stream = stream or sys.stdout
    cmp = compare(summary, baseline)
    print(f"compared with {baseline['run_id']}:", file=stream)
    for k, label in (("new_failures", "new failures"), ("fixed", "fixed"),
                     ("new_signatures", "new crash signatures")):
        print(f"  {label}: {len(cmp[k])}", file=stream)
        for cid in cmp[k]:
            print(f"    {cid}", file=stream)
