"""Running cells: builds first (one at a time), then guests in parallel workers.

A worker keeps one guest per build and runs that build's cells in it one
after another while the kernel stays clean; after a report, a bad taint or a
dead guest the next cell gets a fresh boot. Results are written as each cell
finishes. Ctrl-C/SIGTERM kills every QEMU and leaves a summary marked
incomplete.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import suites
from harness.build.kernel import Build, ensure_build
from harness.core.config import HarnessConfig
from harness.core.errors import BuildError, HarnessError, InputError
from harness.detect import scan_lines, scan_range
from harness.detect.symbolize import Symbolizer
from harness.model import CellResult, Expectation, Outcome, ReportRef
from harness.output.results import RunResults, repro_sh
from harness.run.canary import canary_for_build
from harness.run.judge import judge
from harness.run.matrix import Cell, cell_cost, taint_is_bad
from harness.run.reporter import Reporter
from harness.scenarios.execute import ScenarioResult, run_scenario
from harness.scenarios.spec import Scenario
from harness.vm import guest as guest_mod
from harness.vm.boot import make_guest
from harness.vm.console import KERNEL_LINE


@dataclass
class RunOptions:
    jobs: int = 1
    retries: int = 0
    results_root: Path = Path("results")
    junit: Path | None = None
    baseline: Path | None = None
    transport: str | None = None
    accel: str | None = None
    snapshot: bool | None = None          # None: guest.snapshot from the config
    canary: bool = True
    fail_on_flaky: bool = False
    stop_before: str | None = None        # repro --shell: stop before this step
    calibration: dict | None = None       # a factor measured earlier in this job (a gate's later runs)


@dataclass
class BuildInfo:
    build: Build | None
    features: dict = field(default_factory=dict)
    canary: list[dict] | None = None
    blind: set[str] = field(default_factory=set)
    error: str | None = None
    input_error: bool = False


def _kernel_lines(lines: list[str]) -> list[str]:
    return [l for l in lines if KERNEL_LINE.match(l)]


def _has_report(lines: list[str]) -> bool:
    return bool(scan_lines(lines))


def _noting(cells, current: list):
    """Yield cells, keeping the one being run in current[-1]."""
    for cell in cells:
        current.append(cell)
        yield cell


class Runner:
    def __init__(self, cfg: HarnessConfig, scenarios: dict[str, Scenario], opts: RunOptions,
                 results: RunResults, reporter: Reporter):
        self.cfg, self.scenarios, self.opts = cfg, scenarios, opts
        self.results, self.reporter = results, reporter
        self.stop = threading.Event()
        self.fatal: OSError | None = None     # the results folder refused a write: the run stops
        self.builds: dict[tuple[str, str], BuildInfo] = {}
        self._symbolizers: dict[str, object] = {}
        self.slowdown: float | None = None    # the run's budget factor (harness/vm/calibrate.py)

    # -- builds --------------------------------------------------------------
    def prepare_builds(self, keys: list[tuple[str, str]]) -> None:
        for v, p in keys:
            if self.stop.is_set():
                return
            info = BuildInfo(None)
            self.reporter.set_phase("build", f"{v}/{p}")
            t0 = time.monotonic()
            try:
                b = ensure_build(self.cfg, self.cfg.variant(v), self.cfg.profile(p),
                                 log=lambda m: self.reporter.event(m))
                info.build = b
                info.features = suites.probe_features(b.read_source,
                                                      self.cfg.variant(v).features)
                self.reporter.event(f"build {v}/{p}: {'built' if b.built else 'cached'} "
                                    f"({b.release}, {time.monotonic() - t0:.1f}s)")
            except InputError as exc:
                info.error, info.input_error = str(exc), True
                self.reporter.event(f"build {v}/{p}: INPUT ERROR: {exc}")
            except BuildError as exc:
                info.error = str(exc)
                self.reporter.event(f"build {v}/{p}: FAILED: {exc}")
            if info.build and self.opts.canary:
                self.reporter.set_phase("build", f"canary {v}/{p}")
                try:
                    info.canary = canary_for_build(self.cfg, info.build, log=self.reporter.event)
                    info.blind = {r["class"] for r in info.canary if not r["seen"]}
                except HarnessError as exc:
                    self.reporter.event(f"canary {v}/{p}: could not run: {exc}")
                    info.canary = []
                    info.blind = {"*"}
            self.builds[(v, p)] = info
        self.reporter.set_phase("build", "done")
        self.results.set_builds([self.build_json(k, i) for k, i in self.builds.items()])

    def build_json(self, key, info: BuildInfo) -> dict:
        v, p = key
        d = {"variant": v, "profile": p, "error": info.error, "features": info.features,
             "canary": info.canary, "blind": sorted(info.blind)}
        if info.build:
            b = info.build
            d |= {"key": b.key, "release": b.release, "duration_s": b.duration_s, "built": b.built,
                  "source": {k: b.source[k] for k in ("name", "kind", "version", "base_commit",
                                                      "tree_id", "origin")},
                  "patches": b.patches, "config_sha256": b.config_sha256, "compiler": b.compiler,
                  "options": _options_that_matter(b)}
        return d

    # -- cells ---------------------------------------------------------------
    def run_cells(self, cells: list[Cell]) -> None:
        work: dict[tuple[str, str], list[Cell]] = {}
        for c in cells:
            work.setdefault((c.variant, c.profile), []).append(c)
        # cells whose build is unusable are decided without a guest
        for key in list(work):
            info = self.builds.get(key)
            if info is None or info.build is None:
                for c in work.pop(key):
                    self.finish(c, None, "error", f"build failed: {(info.error if info else 'not built')}"[:2000])
        # Each build's cells sorted by their likely length (step timeouts). Even
        # workers take the longest first, so no long cell is left for the end; odd
        # workers take the shortest first, so two CPU-heavy guests rarely run at
        # once (two busy 2-vCPU guests on 2 cores slow each other down more than
        # they gain). A worker keeps to one build (its guest stays up) until its
        # build is done or, for a long-first worker, a longer cell waits on another
        # build: switching costs a snapshot restore, not a boot.
        for batch in work.values():
            batch.sort(key=lambda c: -self._cost(c))
        lock = threading.Lock()

        def pop(key, longest):
            with lock:
                mine = work.get(key)
                if not mine:
                    return None
                if not longest:
                    return mine.pop()
                others = [b[0] for k, b in work.items() if b and k != key]
                if others and max(map(self._cost, others)) > self._cost(mine[0]):
                    return None
                return mine.pop(0)

        def pick(longest):
            with lock:
                left = [k for k, b in work.items() if b]
                if not left:
                    return None
                if longest:
                    return max(left, key=lambda k: (self._cost(work[k][0]), len(work[k])))
                return max(left, key=lambda k: len(work[k]))

        def cells_of(key, longest):
            while (cell := pop(key, longest)) is not None:
                yield cell

        def worker(wid: str, longest: bool):
            while not self.stop.is_set():
                key = pick(longest)
                if key is None:
                    break
                current: list[Cell] = []
                try:
                    self.run_batch(wid, self.builds[key], _noting(cells_of(key, longest), current))
                except Exception as exc:  # noqa: BLE001 - a harness bug: the cell says so, not a traceback
                    if self.stop.is_set():
                        break             # interrupted: the guest was killed under the worker
                    done = {c.id for c in self.results.cells}
                    if current and current[-1].id not in done:
                        self.finish(current[-1], None, "error", f"harness error: {exc!r}")
            self.reporter.set_phase(wid, "idle")

        threads = [threading.Thread(target=worker, args=(f"w{i}", i % 2 == 0), daemon=True)
                   for i in range(max(1, self.opts.jobs))]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)

    def _cost(self, cell: Cell) -> float:
        return cell_cost(cell, self.scenarios)

    def run_batch(self, wid: str, info: BuildInfo, cells) -> None:
        guest = None
        boot_no = 0
        unused = False            # the guest is fresh: no cell has run in it yet
        try:
            for cell in cells:
                if self.stop.is_set():
                    return
                scenario = self.scenarios[cell.scenario]
                expect = scenario.expectation(self.expectations_of(cell.variant))
                blind = self._blind_for(info, expect)
                if blind:
                    self.finish(cell, None, "error", f"kernel cannot report {', '.join(sorted(blind))} "
                                "(canary not seen), so this cell's expectation cannot be checked")
                    continue
                # a scenario's `requires:` is checked here, and only here
                missing = tuple(f for f in scenario.requires if not info.features.get(f))
                if missing:
                    self.finish(cell, None, "n/a", f"kernel lacks {', '.join(missing).replace('_', ' ')}",
                                missing=missing)
                    continue
                attempts, first = 0, None
                t_cell = time.monotonic()
                while True:
                    attempts += 1
                    if guest is None or not guest.alive():
                        boot_no += 1
                        guest = self.boot(wid, info.build, cell, boot_no)
                        if isinstance(guest, str):   # boot failed: recorded as the cell's outcome
                            res, guest = self.boot_failure(cell, guest), None
                        else:
                            res, unused = None, True
                    used = guest
                    fresh_boot = guest is not None and unused
                    started = time.time()
                    if guest is not None:
                        self.reporter.set_phase(wid, f"{cell.id}")
                        res = self.run_one(guest, scenario, info.build)
                        unused = False
                        if res.reports or res.outcome in ("hang", "panic", "no-boot") or self._tainted(guest, res):
                            guest.kill()
                            guest = None
                    if self.stop.is_set():
                        return   # interrupted: this cell did not finish, record nothing
                    result = self.make_cell(cell, info, res, expect, attempts)
                    result.worker = wid
                    result.started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started))
                    if fresh_boot and used is not None and used.boot_s is not None:
                        result.boot_s = round(used.boot_s, 2)
                        result.boot_from = "snapshot" if used.restored else "cold"
                        result.cpus = used.cpus
                    if used is not None:
                        result.accel = used.spec.accel
                    # the worker's time on this cell: boot or restore, steps, scans, kill
                    result.wall_s = round(time.monotonic() - t_cell, 3)
                    if result.passed or attempts > self.opts.retries or self.stop.is_set():
                        if attempts > 1 and result.passed:
                            result.flaky = True
                            result.first_attempt = first
                            result.passed = not self.opts.fail_on_flaky
                        self.record(result, res, used)
                        break
                    first = {"outcome": str(result.outcome), "why": result.why}
                    if guest is not None:   # a retry runs alone, on a fresh boot
                        guest.kill()
                        guest = None
        finally:
            if guest is not None:
                guest.kill()

    def expectations_of(self, variant: str) -> str:
        """Whose written expectations judge a variant's cells: a series stacked on a
        configured variant (a gate) is held to that variant's."""
        v = self.cfg.variants.get(variant)
        return v.stacked_on if v is not None and v.stacked_on else variant

    def _blind_for(self, info: BuildInfo, expect: Expectation) -> set[str]:
        if not info.blind:
            return set()
        needs = expect.classes()
        if "*" in needs or "*" in info.blind:
            return set(info.blind)
        return needs & info.blind

    def boot(self, wid: str, build: Build, cell: Cell, boot_no: int):
        d = self.results.dir / "boots" / f"{build.variant}.{build.profile}.{wid}.{boot_no}"
        self.reporter.set_phase(wid, f"booting {build.variant}/{build.profile}")
        g = make_guest(self.cfg.guest, build, d, transport=self.opts.transport, accel=self.opts.accel,
                       root=self.cfg.root, snapshot=self.opts.snapshot, slowdown=self.slowdown)
        try:
            g.start()
        except guest_mod.GuestDied as died:
            return f"{died.kind}: {died.detail}\n" + "\n".join(died.last_lines[-20:])
        return g

    def boot_failure(self, cell: Cell, text: str) -> ScenarioResult:
        kind = text.split(":", 1)[0]
        outcome = {"panic": "panic", "no-boot": "no-boot", "qemu-failed": "error"}.get(kind, "no-boot")
        return ScenarioResult(cell.scenario, outcome, text, [])

    def symbolizer(self, build: Build):
        """addr2line over the build's vmlinux and unstripped modules (None if unavailable)."""
        if build.key not in self._symbolizers:
            try:
                mods = [p for p in (build.objdir, build.guest_dir / "kmod") if p.is_dir()]
                self._symbolizers[build.key] = Symbolizer(vmlinux=build.vmlinux, modules=mods,
                                                          source_root=build.source.get("repo"))
            except Exception:  # noqa: BLE001 - symbolisation is a bonus, never a failure
                self._symbolizers[build.key] = None
        return self._symbolizers[build.key]

    def run_one(self, guest, scenario: Scenario, build: Build | None = None) -> ScenarioResult:
        res = run_scenario(guest, scenario, self.cfg.guest.step_timeout_s, scan=_has_report)
        lines = guest.console.lines
        end = len(lines)
        res.console_end = end
        res.reports = scan_range(lines[res.console_start:end], res.console_start)
        sym = self.symbolizer(build) if (build is not None and res.reports) else None
        for r in res.reports if sym else []:
            try:
                sym.symbolize_report(r)
            except Exception:  # noqa: BLE001 - keep the unsymbolised report
                pass
        if res.reports and res.outcome in ("clean", "check-failed"):
            res.detail = (res.detail + "; " if res.detail else "") + f"{len(res.reports)} report(s)"
            res.outcome = "report"
        elif res.reports and res.outcome in ("hang", "panic"):
            # A report before the death is the finding and the death came after it:
            # one from an earlier step, or any report of a step that then hung (e.g.
            # KASAN on a freed spinlock, then spinning on it). A panic's own oops is
            # in the dying step: that stays a panic.
            dying = res.steps[-1].name if res.steps else None
            if res.outcome == "hang" or any(r.step and r.step != dying for r in res.reports):
                res.detail = f"{len(res.reports)} report(s), then {res.outcome}: {res.detail}"
                res.outcome = "report"
        return res

    def _tainted(self, guest, res: ScenarioResult) -> bool:
        if not guest.alive():
            return True
        try:
            r = guest.run("cat /proc/sys/kernel/tainted", timeout=10, step="taint-check")
            value = int(r.output.strip() or "0")
        except (guest_mod.GuestDied, ValueError):
            return True
        res.tainted = str(value)
        return bool(taint_is_bad(value))

    # -- results -------------------------------------------------------------
    def make_cell(self, cell: Cell, info: BuildInfo, res: ScenarioResult | None, expect: Expectation,
                  attempts: int, outcome: str | None = None, detail: str = "",
                  missing: tuple[str, ...] = ()) -> CellResult:
        """The cell's result, judged (harness.run.judge decides passed, why and each report's expected)."""
        if res is not None:
            outcome, detail = res.outcome, res.detail
        found = res.reports if res else []
        verdict = judge(outcome, detail, found, expect, missing)
        return CellResult(
            variant=cell.variant, profile=cell.profile, scenario=cell.scenario,
            outcome=Outcome.parse(outcome), expectation=expect, passed=verdict.passed, why=verdict.why,
            detail=detail, harness_error=verdict.harness_error, attempts=attempts,
            reports=[ReportRef.from_report(r, ok) for r, ok in zip(found, verdict.expected)],
            steps=list(res.steps) if res else [], duration_s=round(res.duration_s if res else 0.0, 2),
            tainted=res.tainted if res else "",
            build_key=info.build.key if info.build else None,
            build_release=info.build.release if info.build else None)

    def finish(self, cell: Cell, res, outcome: str, detail: str, missing: tuple[str, ...] = ()) -> None:
        """Record a cell decided without (or after losing) its guest."""
        scenario = self.scenarios.get(cell.scenario)
        expect = scenario.expectation(self.expectations_of(cell.variant)) if scenario else Expectation("clean")
        info = self.builds.get((cell.variant, cell.profile)) or BuildInfo(None)
        self.record(self.make_cell(cell, info, res, expect, 1, outcome, detail, missing), res, None)

    def record(self, result: CellResult, res: ScenarioResult | None, guest) -> None:
        """Write the cell's folder and add it to the run's results."""
        files = {"repro.sh": repro_sh(f"cells/{result.id}")}
        if res is not None and guest is not None:
            lines = _console_lines_for(guest, res)
            boot_log = guest.console_log.relative_to(self.results.dir) if \
                guest.console_log.is_relative_to(self.results.dir) else guest.console_log
            header = (f"# console lines {res.console_start + 1}-{res.console_end} of {boot_log} "
                      f"(boot shared by the cells run in it)\n")
            files["console.log"] = header + "\n".join(lines) + "\n"
            files["kernel.log"] = "\n".join(_kernel_lines(lines)) + "\n"
            files["qemu-cmdline.txt"] = guest.spec.shell_line() + "\n"
            result.boot = str(boot_log)
            result.console_lines = [res.console_start + 1, res.console_end]
        elif res is not None and res.detail:
            files["console.log"] = res.detail + "\n"
        reports = [r.to_json() for r in result.reports]
        files["reports.json"] = json.dumps(reports, indent=2) + "\n"
        files["reports.txt"] = "\n\n".join(
            [f"=== {r.kind}: {r.title} (step {r.step}, lines {r.start_line}-{r.end_line})\n{r.text}"
             for r in result.reports]
            + [_evidence_text(s, guest) for s in result.steps if s.evidence]) + "\n"
        try:
            self.results.add_cell(result, files)
        except OSError as exc:
            # the results folder cannot take the cell (a full disk): nothing more
            # can be recorded, so the run stops and the session says why (exit 3)
            self.fatal = self.fatal or exc
            self.stop.set()
            return
        self.reporter.cell_done(result)


def _evidence_text(step, guest) -> str:
    """A hung step's evidence for reports.txt: the decision, its summary, and the
    console lines the kernel answered with (SysRq dumps)."""
    ev = step.evidence or {}
    decision = ev.get("decision") or {}
    out = [f"=== HANG evidence: step {step.name} ({decision.get('kind', '?')}): {decision.get('why', '')}",
           ev.get("summary", "")]
    first, last = (ev.get("console_lines") or [0, 0])[:2]
    if guest is not None and guest.console is not None and first:
        out += list(guest.console.lines[first - 1:last])
    return "\n".join(out)


def _console_lines_for(guest, res: ScenarioResult) -> list[str]:
    if guest is None or guest.console is None:
        return []
    return guest.console.lines[res.console_start:res.console_end]


_MATTER = ("CONFIG_KASAN", "CONFIG_PROVE_LOCKING", "CONFIG_PROVE_RCU", "CONFIG_DEBUG_OBJECTS_RCU_HEAD",
           "CONFIG_BUG", "CONFIG_PRINTK_TIME", "CONFIG_KALLSYMS_ALL", "CONFIG_PREEMPT", "CONFIG_LKDTM",
           "CONFIG_DRM_VGEM", "CONFIG_DMABUF_SELFTESTS", "CONFIG_SW_SYNC", "CONFIG_UDMABUF")


def _options_that_matter(b: Build) -> dict:
    try:
        conf = b.config()
    except OSError:
        return {}
    return {k: conf.get(k, "n") for k in _MATTER}
