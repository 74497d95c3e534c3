"""`harness gate`: a patch series judged against its base, with the culprit named.

The series (an mbox, a folder or a git range; harness.intake) is stacked on a
configured variant (`--on`, default the config's default variant). Every
selected scenario runs on the base and on base+series; each cell gets a
differential verdict (harness.run.differential: unchanged, regression, fixed,
changed), each regression is bisected over the series' prefixes to the patch
that brought it, and the whole answer goes to `gate.json`, `gate.md`, the
JUnit file and the page, in the series run's results folder:

    results/<run>/            the series run (summary.json, cells/, index.html)
    results/<run>/base/       the base run (copied from the cache when reused)
    results/<run>/patches/    the series itself (patch files + series.json), for repro
    results/<run>/bisect/     one run per prefix the search needed
    results/<run>/gate.json   harness.model.gate.GateSummary

Base results are cached by what decides them (the base build's key, the
selected scenarios' definitions, the detector's code, the run options), so a
second gate on the same base does not run the base again.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.build.kernel import Build, ensure_build
from harness.checks import check_series
from harness.checks.policy import DEFAULT_FAIL_ON
from harness.checks.policy import judge as judge_checks
from harness.core.config import HarnessConfig, cache_root
from harness.core.errors import BuildError, HarnessError, InputError
from harness.core.util import read_json, sha256_text, sha256_tree, write_atomic, write_json
from harness.intake.read import read_series_args
from harness.intake.series import Series
from harness.intake.stack import configured_twin, variant_with_series
from harness.model import CellResult, Outcome
from harness.model.checks import CheckName
from harness.model.gate import GateCell, GatePatch, GateSummary
from harness.output.gate_report import gate_junit, gate_markdown
from harness.output.html import write_report
from harness.output.html_parts import display_path
from harness.output.results import RunResults, load_cells, load_summary, new_run_id
from harness.run.culprit import find_culprits
from harness.run.differential import classify, written_expectation
from harness.run.matrix import Cell, load_matrix, select
from harness.run.runner import RunOptions
from harness.run.session import inputs_header, run_session
from harness.scenarios.spec import Scenario, load_scenarios

GATE_JSON = "gate.json"
RUNTIME = "runtime"                   # the scenarios on the base and with the series
STATIC_CHECKS = {c.value for c in CheckName}
ALL_GATE_CHECKS = tuple(c.value for c in CheckName) + (RUNTIME,)
INTERRUPTED = 130           # run_session's status after Ctrl-C/SIGTERM
BASE_CACHE_RECIPE = "1"     # bump when what a cached base run means changes


@dataclass
class GateRequest:
    series: list[str]                     # SERIES arguments: mbox, folder or BASE..TIP
    on: str | None = None                 # the configured variant to stack on
    tree: Path | None = None              # the kernel git tree of a range
    select: list[str] | None = None       # -k expressions (cells of the base variant)
    matrix: Path | None = None            # whose scenarios (default: the default matrix)
    results_root: Path = Path("results")
    jobs: int = 1
    retries: int = 0
    bisect: bool = True
    accel: str | None = None
    transport: str | None = None
    snapshot: bool | None = None
    canary: bool = True
    checks: tuple[str, ...] = ALL_GATE_CHECKS     # which answers: the static checks, the runtime
    strict_checkpatch: bool = False               # checkpatch errors fail the gate too


@dataclass
class _Runs:
    """What the gate ran, kept for the renderings."""
    dir: Path
    results: RunResults                   # the series run's results (the gate's folder)
    base_cells: dict[str, CellResult] = field(default_factory=dict)     # by (profile.scenario)
    head_cells: dict[str, CellResult] = field(default_factory=dict)


def _key(cell: CellResult | Cell) -> str:
    return f"{cell.profile}.{cell.scenario}"


def plan_cells(cfg: HarnessConfig, on: str, scenarios: dict[str, Scenario], matrix_file: Path | None,
               exprs: list[str] | None) -> list[Cell]:
    """The base variant's cells the gate runs: its cells of the matrix (the default
    matrix's scenarios and profiles when the matrix does not list it), narrowed by -k."""
    matrix = load_matrix(cfg, matrix_file, scenarios)
    cells = [c for c in matrix.cells() if c.variant == on]
    if not cells:
        cells = [Cell(on, p, s) for p in matrix.profiles for s in matrix.scenarios]
    cells = select(cells, exprs, scenarios)
    if not cells:
        raise InputError(f"no cell selected for variant {on!r} (check -k against `harness list`)")
    return cells


def base_cache_key(build: Build, cells: list[Cell], scenarios: dict[str, Scenario], opts: RunOptions) -> str:
    detector = sha256_tree(Path(__file__).resolve().parents[1] / "detect", ("*.py",))
    defs = [(c.profile, c.scenario, repr(dataclasses.replace(scenarios[c.scenario], file="", line=0)))
            for c in sorted(cells, key=_key)]
    return sha256_text(repr((BASE_CACHE_RECIPE, build.key, defs, detector, opts.retries, opts.transport,
                             opts.accel, opts.canary)))


def _twin_args(scenario, twin: str) -> tuple:
    """classify()'s twin arguments: the expectation written for the configured twin variant."""
    return (written_expectation(scenario, twin), twin) if twin else (None, "")


def _copy_run(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, symlinks=True)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def _harness_errors(cells: list[CellResult]) -> list[str]:
    """Cells the harness could not run (not a build the series broke: that is a verdict)."""
    return [f"{c.id}: {c.detail or c.why}" for c in cells
            if c.outcome == Outcome.ERROR and not c.detail.startswith("build failed")]


class Gate:
    def __init__(self, cfg: HarnessConfig, req: GateRequest, say=None):
        self.cfg, self.req = cfg, req
        self.say = say or (lambda m: print(m, file=sys.stderr, flush=True))
        self.timings: dict[str, float] = {}
        self.calibration: dict | None = None      # the host's budget factor, measured once per gate

    def _opts(self, root: Path, canary: bool) -> RunOptions:
        r = self.req
        return RunOptions(jobs=r.jobs, retries=r.retries, results_root=root, transport=r.transport,
                          accel=r.accel, snapshot=r.snapshot, canary=canary, calibration=self.calibration)

    def _measured(self, results: RunResults) -> None:
        """The first run of the gate measured the host: its later runs use that factor."""
        cal = results.header.get("calibration")
        if self.calibration is None and isinstance(cal, dict) and cal.get("factor"):
            self.calibration = cal

    def _build(self, variant, profile, seed: Build | None = None) -> Build | None:
        """The build, or None when it failed (the cells then say why)."""
        t0 = time.monotonic()
        try:
            return ensure_build(self.cfg, variant, self.cfg.profile(profile), log=self.say, seed=seed)
        except BuildError as exc:
            self.say(f"build {variant.name}/{profile}: FAILED: {exc}")
            return None
        finally:
            self.timings["builds_s"] = self.timings.get("builds_s", 0.0) + time.monotonic() - t0

    def run(self) -> tuple[GateSummary, _Runs]:
        cfg, req = self.cfg, self.req
        series = read_series_args(req.series, req.tree)
        on = cfg.variant(req.on).name
        head = variant_with_series(cfg, on, series)
        scenarios = load_scenarios(cfg)
        base_cells = plan_cells(cfg, on, scenarios, req.matrix, req.select)
        head_cells = [Cell(head.name, c.profile, c.scenario) for c in base_cells]
        profiles = list(dict.fromkeys(c.profile for c in base_cells))
        self.say(f"gate: {series.describe()}")
        self.say(f"gate: on {on}, {len(base_cells)} cell(s) each on the base and with the series")
        # builds first: a patch that does not apply is bad input (exit 2) before any results exist
        base_builds = {p: self._build(cfg.variant(on), p) for p in profiles}
        # the series' build is for the runtime checks; the static ones build their own prefixes
        head_builds = {p: self._build(head, p) for p in profiles} if RUNTIME in req.checks else {}

        run_id = new_run_id()
        header = inputs_header(cfg) | {"command": sys.argv, "gate": {"on": on, "head": head.name,
                                                                     "series": series.to_json()}}
        # `latest` moves to the gate's folder when the gate has an answer (run_gate)
        head_results = RunResults(req.results_root, run_id=run_id, header=header, link_latest=False)
        gdir = head_results.dir
        try:
            return self._judge(series, on, head, base_cells, head_cells, profiles, base_builds, head_builds,
                               scenarios, run_id, head_results)
        except InputError:
            # bad input found late (a patch that does not apply on the checks' tree): nothing stays
            shutil.rmtree(gdir, ignore_errors=True)
            raise

    def _judge(self, series, on, head, base_cells, head_cells, profiles, base_builds, head_builds, scenarios,
               run_id, head_results) -> tuple[GateSummary, "_Runs"]:
        req = self.req
        gdir = head_results.dir
        series.write_to(gdir / "patches")
        summary = GateSummary(series=series.to_json(), on=on, head_variant=head.name, base_dir="base",
                              base_cached=False,
                              patches=[GatePatch(p.index, p.subject, p.filename, p.sha256, p.author, p.commit,
                                                 p.message_id) for p in series.patches])
        runs = _Runs(gdir, head_results)
        summary.twin = configured_twin(self.cfg, on, series) or ""
        if summary.twin:
            self.say(f"gate: the series is exactly the configured variant {summary.twin} (on {on}): what the "
                     f"scenarios write for {summary.twin} is its contract too")
        if any(b is None for b in base_builds.values()):
            summary.errors.append(f"the base variant {on} does not build: nothing to compare with")

        if STATIC_CHECKS & set(req.checks):
            self._static_checks(series, base_builds, profiles[0], gdir, summary)
        if RUNTIME in req.checks:
            self._runtime(series, on, base_cells, head_cells, base_builds, head_builds, scenarios, gdir,
                          run_id, head_results, runs, summary)
        else:       # the page and the repro tools expect a results folder: an empty, finished run
            head_results.write_summary(complete=True, exit_status=0, note="runtime checks not requested")
        summary.timings = dict(self.timings, builds_s=round(self.timings.get("builds_s", 0.0), 1))
        return summary, runs

    def _runtime(self, series: Series, on: str, base_cells: list[Cell], head_cells: list[Cell],
                 base_builds: dict, head_builds: dict, scenarios: dict, gdir: Path, run_id: str,
                 head_results: RunResults, runs: "_Runs", summary: GateSummary) -> None:
        """The scenarios on the base and with the series, their differential verdicts, culprits."""
        cfg, req = self.cfg, self.req
        # the base: from the cache when the same cells ran on the same build before
        t0 = time.monotonic()
        base_dir = gdir / "base"
        keys = {p: base_cache_key(b, [c for c in base_cells if c.profile == p], scenarios, self._opts(gdir, req.canary))
                for p, b in base_builds.items() if b is not None}
        cache_dir = cache_root() / "gate-base" / sha256_text(repr(sorted(keys.items())))[:24]
        cached = read_json(cache_dir / "summary.json")
        if keys and len(keys) == len(base_builds) and cached and cached.get("complete") \
                and not _harness_errors(load_cells(cached)):
            _copy_run(cache_dir, base_dir)
            summary.base_cached = True
            self.say(f"gate: base results reused ({len(cached['cells'])} cells, {cache_dir})")
        else:
            base_results = RunResults(gdir, run_id="base", header=inputs_header(cfg) | {"gate_base_of": run_id},
                                      link_latest=False)
            status = run_session(cfg, base_cells, self._opts(gdir, req.canary), scenarios, base_results,
                                 label="base")
            if status == INTERRUPTED:
                raise KeyboardInterrupt
            self._measured(base_results)
            if keys and not _harness_errors(base_results.cells):
                cache_dir.parent.mkdir(parents=True, exist_ok=True)
                _copy_run(base_dir, cache_dir)
        self.timings["base_s"] = round(time.monotonic() - t0, 1)
        runs.base_cells = {_key(c): c for c in load_cells(load_summary(base_dir))}

        t0 = time.monotonic()
        # the series run is judged by the base variant's written expectations, so a cell the
        # series fixes shows FAIL in it: say so before the lines scroll by
        self.say(f"gate: the series run: ok/FAIL below judge each cell by what {on} is written to give; "
                 "the gate's verdict, after it, compares each cell with its base cell")
        status = run_session(cfg, head_cells, self._opts(req.results_root, req.canary), scenarios, head_results,
                             label="series")
        if status == INTERRUPTED:
            raise KeyboardInterrupt
        self._measured(head_results)
        self.timings["series_s"] = round(time.monotonic() - t0, 1)
        runs.head_cells = {_key(c): c for c in head_results.cells}

        for c in base_cells:
            b, h = runs.base_cells.get(_key(c)), runs.head_cells.get(_key(c))
            if b is None or h is None:
                summary.errors.append(f"{_key(c)}: no result on the {'base' if b is None else 'series'}"
                                      " (the run was interrupted?)")
                continue
            d = classify(b, h, written_expectation(scenarios[c.scenario], on),
                         *_twin_args(scenarios[c.scenario], summary.twin))
            summary.cells.append(GateCell(
                c.profile, c.scenario, b.id, h.id, d.verdict, d.why, d.fails_gate, d.flaky, str(b.outcome),
                str(h.outcome), list(d.new_signatures), list(d.gone_signatures), d.expectation, d.expectation_why,
                follow_on_new=list(d.follow_on_new)))
        summary.errors += _harness_errors(list(runs.base_cells.values()) + list(runs.head_cells.values()))

        regressed = [gc for gc in summary.cells if gc.fails_gate]
        if regressed and req.bisect and not summary.errors:
            t0 = time.monotonic()
            self._bisect(series, on, regressed, runs, head_builds, scenarios, summary)
            self.timings["bisect_s"] = round(time.monotonic() - t0, 1)

    def _static_checks(self, series: Series, base_builds: dict, profile: str, gdir: Path,
                       summary: GateSummary) -> None:
        """The per-patch checks (harness.checks), on the base variant's commit, into the summary."""
        base = base_builds.get(profile)
        if base is None:
            summary.errors.append(f"per-patch checks: the base variant {summary.on} does not build")
            return
        t0 = time.monotonic()
        wanted = [c for c in self.req.checks if c in STATIC_CHECKS]
        patches = [gdir / "patches" / p.filename for p in series.patches]
        checked = check_series(Path(base.source["repo"]), base.commit, patches, self.cfg.profile(profile),
                               checks=wanted, workdir=gdir / "checks", guest_root=self.cfg.root,
                               log=self.say)
        write_json(gdir / "checks" / "checks.json", checked.to_json())
        fail_on = [c for c in DEFAULT_FAIL_ON if c.value in wanted]
        verdict = judge_checks(checked, fail_on=fail_on, strict_checkpatch=self.req.strict_checkpatch)
        for pc in checked.patches:
            summary.patches[pc.index - 1].checks = [pc.results[c] for c in checked.checks if c in pc.results]
        for item in verdict.failures:
            summary.patches[item.patch - 1].check_failures.append(f"{item.check.value}: {item.reason}")
        for item in verdict.unverified:
            summary.patches[item.patch - 1].unverified.append(f"{item.check.value}: {item.reason}")
        self.timings["checks_s"] = round(time.monotonic() - t0, 1)

    def _bisect(self, series: Series, on: str, regressed: list[GateCell], runs: _Runs,
                head_builds: dict[str, Build | None], scenarios, summary: GateSummary) -> None:
        n = len(series.patches)
        by_id = {gc.head_id: gc for gc in regressed}
        if n == 1:
            for gc in regressed:
                gc.culprit, gc.culprit_why = 1, "the series has one patch"
        else:
            def regresses(k: int, ids: list[str]) -> dict[str, bool]:
                prefix = variant_with_series(self.cfg, on, series, upto=k)
                cells = [Cell(prefix.name, by_id[i].profile, by_id[i].scenario) for i in ids]
                for p in dict.fromkeys(c.profile for c in cells):
                    self._build(prefix, p, seed=head_builds.get(p))
                results = RunResults(runs.dir / "bisect", run_id=f"prefix-{k:02d}", link_latest=False,
                                     header={"gate_prefix": {"of": runs.dir.name, "patches": k}})
                status = run_session(self.cfg, cells, self._opts(runs.dir / "bisect", False), scenarios,
                                     results, label=f"prefix {k}/{n}")
                if status == INTERRUPTED:
                    raise KeyboardInterrupt
                got = {_key(c): c for c in results.cells}
                out = {}
                for i in ids:
                    gc = by_id[i]
                    cell = got.get(f"{gc.profile}.{gc.scenario}")
                    base = runs.base_cells[f"{gc.profile}.{gc.scenario}"]
                    if cell is None:
                        raise HarnessError(f"prefix {k}: no result for {gc.scenario} (interrupted?)")
                    d = classify(base, cell, written_expectation(scenarios[gc.scenario], on),
                                 *_twin_args(scenarios[gc.scenario], summary.twin))
                    gc.prefix_outcomes[str(k)] = str(cell.outcome) + (
                        f" [{cell.reports[0].title}]" if cell.reports else "")
                    out[i] = d.fails_gate
                return out

            found = find_culprits(n, list(by_id), regresses)
            for i, k in found.items():
                by_id[i].culprit = k
                tried = ", ".join(f"{p}: {o}" for p, o in sorted(by_id[i].prefix_outcomes.items(),
                                                                   key=lambda kv: int(kv[0])))
                by_id[i].culprit_why = f"first regressing prefix {k}/{n}" + (f" (prefixes {tried})" if tried else "")
        for gc in regressed:
            summary.patches[gc.culprit - 1].culprit_of.append(gc.head_id)


def run_gate(cfg: HarnessConfig, req: GateRequest, say=None) -> tuple[GateSummary, Path]:
    """Gate a series; returns the summary and the gate's folder, where gate.json,
    gate.md, gate-junit.xml and the page (with its gate section) are written."""
    gate = Gate(cfg, req, say)
    summary, runs = gate.run()
    summary.exit_status = 3 if summary.errors else (0 if summary.passed else 1)
    gdir = runs.dir
    write_json(gdir / GATE_JSON, summary.to_json())
    write_atomic(gdir / "gate.md", gate_markdown(summary, runs.head_cells, gdir, display_path(gdir)))
    write_atomic(gdir / "gate-junit.xml", gate_junit(summary))
    write_report(gdir)
    runs.results.link_latest()
    return summary, gdir


def find_gate(path: Path) -> Path | None:
    """The gate folder a results path lies in (a cell of the series, base or a prefix run)."""
    p = Path(path).resolve()
    for d in [p, *p.parents][:6]:
        if (d / GATE_JSON).is_file():
            return d
    return None


def restore_variant(cfg: HarnessConfig, cell_dir: Path, name: str, tree: Path | None = None) -> bool:
    """Register the derived variant `name` of the gate a recorded cell belongs to,
    from the patches stored in its results (no mbox or user tree needed; a
    git-range series needs a kernel tree with its BASE: `tree`)."""
    gdir = find_gate(cell_dir)
    g = load_gate(gdir) if gdir else None
    if g is None or not (name == g.head_variant or name.startswith(g.head_variant + "@")):
        return False
    series = Series.load(gdir / "patches")
    upto = int(name.rsplit("@", 1)[1]) if "@" in name[len(g.head_variant):] else None
    variant_with_series(cfg, g.on, series, name=name, upto=upto, tree=tree)
    return True


def load_gate(run_dir: Path) -> GateSummary | None:
    d = read_json(Path(run_dir) / GATE_JSON)
    return GateSummary.from_json(d) if isinstance(d, dict) else None
