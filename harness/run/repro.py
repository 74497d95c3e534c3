"""Re-running one recorded cell: does its outcome reproduce?"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.build.kernel import ensure_build
from harness.core.config import HarnessConfig
from harness.core.errors import InputError
from harness.core.util import read_json
from harness.model import CellResult
from harness.output.results import RunResults
from harness.run.gate import restore_variant
from harness.run.matrix import Cell
from harness.run.runner import RunOptions
from harness.run.session import run_session
from harness.scenarios.spec import Scenario, load_scenarios
from harness.vm.boot import make_guest
from harness.vm.qemu import free_port


@dataclass
class ReproRequest:
    cell_dir: Path
    results_root: Path = Path("results")
    shell: bool = False          # stop before the failing step with a console
    gdb: bool = False            # with a gdb stub (implies shell)
    tree: Path | None = None     # a kernel git tree holding a gated git range's BASE


def recorded_cell(cell_dir: Path) -> CellResult:
    cell = read_json(Path(cell_dir) / "cell.json")
    if not isinstance(cell, dict):
        raise InputError(f"{cell_dir}: no cell.json (expected results/<run-id>/cells/<cell>)")
    return CellResult.from_json(cell)


def reproduce(cfg: HarnessConfig, req: ReproRequest, say=print) -> int:
    """Re-run the cell; 0 when the outcome and crash signatures reproduced, else 1."""
    cell = recorded_cell(req.cell_dir)
    scenarios = load_scenarios(cfg)
    if cell.scenario not in scenarios:
        raise InputError(f"scenario {cell.scenario!r} is not in this checkout's configs")
    if cell.variant not in cfg.variants and not restore_variant(cfg, req.cell_dir, cell.variant, req.tree):
        raise InputError(f"variant {cell.variant!r} of {req.cell_dir} is neither in {cfg.file} nor a gated "
                         "series recorded in its results folder (gate.json + patches/)")
    c = Cell(cell.variant, cell.profile, cell.scenario)
    if req.shell or req.gdb:
        return interactive(cfg, c, scenarios[c.scenario], cell, gdb=req.gdb, say=say)
    results = RunResults(req.results_root, header={"repro_of": str(req.cell_dir)})
    opts = RunOptions(jobs=1, results_root=req.results_root, canary=False)
    status = run_session(cfg, [c], opts, scenarios, results, label="repro")
    new = results.cells[0] if results.cells else None
    if not new:
        return status
    if cell.build_key and new.build_key and cell.build_key != new.build_key:
        print("note: the kernel build differs from the recorded one (patches, configs or "
              "guest modules changed since); this is not an exact reproduction", file=sys.stderr)
    same = new.outcome == cell.outcome and \
        {r.signature for r in new.reports} == {r.signature for r in cell.reports}
    say(f"recorded: {cell.outcome} {[r.title for r in cell.reports]}")
    say(f"now:      {new.outcome} {[r.title for r in new.reports]}")
    say("REPRODUCED" if same else "NOT REPRODUCED")
    return 0 if same else 1


def interactive(cfg: HarnessConfig, cell: Cell, scenario: Scenario, recorded: CellResult, gdb: bool = False,
                say=print) -> int:
    """Boot the cell's kernel, run the steps before the failing one, hand over the console."""
    build = ensure_build(cfg, cfg.variant(cell.variant), cfg.profile(cell.profile))
    failing = next((r.step for r in recorded.reports if r.step), None) or \
        next((s.name for s in recorded.steps if not s.ok), None)
    gdb_port = free_port() if gdb else None
    g = make_guest(cfg.guest, build, Path(tempfile.mkdtemp(prefix="harness-repro-")), gdb_port=gdb_port)
    with g:
        if gdb_port:
            say(f"gdb stub: gdb {build.vmlinux} -ex 'target remote 127.0.0.1:{gdb_port}'")
        for step in scenario.steps:
            if step.name == failing:
                say(f"stopped before step {step.name!r}: {step.run}")
                break
            r = g.run(step.run, timeout=step.timeout_s or cfg.guest.step_timeout_s, step=step.name)
            say(f"step {step.name}: exit {r.exit_status}")
        return g.interact("console (Ctrl-] to leave)")
