"""One run of a set of cells, start to end: builds, guests, results on disk, exit status.

`run_session` is what `harness run`, `repro`, `bisect` and `gate` share: it
builds what the cells need, runs them, writes the results folder (summary,
JUnit, page) and returns the gate's exit status. Ctrl-C and SIGTERM kill every
QEMU and leave a summary marked incomplete.
"""

from __future__ import annotations

import resource
import signal
import sys
from pathlib import Path

from harness.core.config import HarnessConfig
from harness.core.errors import HarnessError, WriteError
from harness.core.util import sha256_file, write_atomic
from harness.output.html import write_report
from harness.model import CellResult
from harness.model.compare import Comparison, compare
from harness.output.results import RunResults, load_cells, load_summary
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


def gate_status(cells: list[CellResult], input_error: bool = False, interrupted: bool = False) -> int:
    """The gate's exit status from the recorded cells.

    130 interrupted; 2 a variant's input was refused (a patch, a kconfig);
    3 the harness failed a cell (QEMU could not start, a stage crashed),
    whether or not other cells also failed their expectation; 1 a cell did
    not give its expected outcome; 0 every cell as expected.
    """
    if interrupted:
        return 130
    if input_error:
        return 2
    if any(c.harness_error for c in cells):
        return 3
    if any(not c.passed for c in cells):
        return 1
    return 0


def run_session(cfg: HarnessConfig, cells: list[Cell], opts: RunOptions, scenarios: dict,
                results: RunResults, label: str = "run") -> int:
    """Build, run and record; returns the gate's exit status.

    Raises HarnessError (WriteError) when the results folder refused a write
    (a full disk): no summary.json then says the run is complete.
    """
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
    if runner.fatal is not None:
        raise _unrecordable(results, runner.fatal)
    builds_json = [runner.build_json(k, i) for k, i in runner.builds.items()]
    results.builds = builds_json
    input_err = any(i.input_error for i in runner.builds.values())
    status = gate_status(results.cells, input_err, interrupted)
    # the harness's own footprint, e.g. under a console flood (resource: kB on Linux)
    results.header["harness_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    try:
        summary = results.write_summary(complete=not interrupted, exit_status=status,
                                        note="interrupted" if interrupted else "")
        if not interrupted:
            write_report(results.dir, baseline=opts.baseline)
        if opts.junit:
            write_atomic(Path(opts.junit), (results.dir / "junit.xml").read_text()
                         if not interrupted else "")
    except OSError as exc:
        raise _unrecordable(results, exc) from None
    t = summary["totals"]
    reporter.event(f"{label}: {t['passed']}/{t['cells']} as expected, {t['failed']} failed, "
                   f"{t['errors']} harness errors, {t['flaky']} flaky, {t['n/a']} n/a -> {results.dir}"
                   + (" (INTERRUPTED: summary marked incomplete)" if interrupted else ""))
    if opts.baseline and not interrupted:
        print_comparison(results.cells, load_summary(Path(opts.baseline)))
    return status


def _unrecordable(results: RunResults, exc: OSError) -> HarnessError:
    """The error for a run whose results could not be written (exit status 3)."""
    what = str(exc) if isinstance(exc, WriteError) else f"{getattr(exc, 'filename', '') or results.dir}: " \
        f"cannot write: {exc.strerror or exc}"
    return HarnessError(f"the results could not be written ({what}); {results.dir} holds an "
                        f"incomplete run ({len(results.cells)} cells recorded), not a verdict")


def calibrate(cfg: HarnessConfig, runner: Runner, opts: RunOptions, results: RunResults) -> None:
    """Measure this host's budget factor once for the run, with as many guests at once as
    the run will have; recorded in summary.json (`calibration`, `inputs.guest.tcg_slowdown`)."""
    if opts.calibration:        # measured by an earlier run of the same job (a gate's base run)
        runner.slowdown = opts.calibration["factor"]
        results.header["calibration"] = dict(opts.calibration)
        results.header.setdefault("inputs", {}).setdefault("guest", {})["tcg_slowdown"] = runner.slowdown
        return
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


def print_comparison(cells: list[CellResult], baseline: dict, stream=None) -> Comparison:
    """Say on the terminal what changed since an earlier run (its loaded summary)."""
    stream = stream or sys.stdout
    cmp = compare(cells, load_cells(baseline), baseline.get("run_id", "?"))
    print(f"compared with {cmp.baseline}:", file=stream)
    for label, ids in (("new failures", cmp.new_failures), ("fixed", cmp.fixed),
                       ("new crash signatures", cmp.new_signatures)):
        print(f"  {label}: {len(ids)}", file=stream)
        for cid in ids:
            print(f"    {cid}", file=stream)
    return cmp
