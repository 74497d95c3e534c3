"""Canary verdicts without a guest: a kernel that prints nothing is blind, and a
clean expectation on a blind build becomes an error, never clean."""

from __future__ import annotations

import json

import pytest

from harness.run.canary import TRIGGERS, judge_trigger, triggers_for
from harness.run.matrix import Cell
from harness.output.results import RunResults
from harness.run.runner import BuildInfo, Reporter, RunOptions, Runner
from harness.detect.scanner import scan_text
from harness.scenarios.spec import Expectation, Scenario, Step

# What a CONFIG_BUG=n kernel printed for `echo WARNING > .../DIRECT`: lkdtm's
# own line, and no splat at all (WARN_ON compiles to nothing).
BUG_OFF_LOG = """\
[    3.101234] HARNESS-STEP: canary-WARNING
[    3.102345] lkdtm: Performing direct entry WARNING
[    3.110000] HARNESS-STEP-END: canary-WARNING rc=0
"""

WARNING_LOG = """\
[    3.101234] HARNESS-STEP: canary-WARNING
[    3.102345] lkdtm: Performing direct entry WARNING
[    3.102400] ------------[ cut here ]------------
[    3.102500] WARNING: CPU: 0 PID: 81 at drivers/misc/lkdtm/bugs.c:100 lkdtm_WARNING+0x1a/0x30 [lkdtm]
[    3.102600] Modules linked in: lkdtm
[    3.102700] CPU: 0 UID: 0 PID: 81 Comm: sh Not tainted 6.12.117 #1
[    3.102800] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    3.102900] RIP: 0010:lkdtm_WARNING+0x1a/0x30 [lkdtm]
[    3.103000] Call Trace:
[    3.103100]  <TASK>
[    3.103200]  lkdtm_do_action+0x20/0x40 [lkdtm]
[    3.103300]  direct_entry+0x110/0x160 [lkdtm]
[    3.103400]  full_proxy_write+0x70/0xa0
[    3.103500]  vfs_write+0x1c0/0x6a0
[    3.103600]  ksys_write+0xb0/0x140
[    3.103700]  do_syscall_64+0x60/0x120
[    3.103800]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[    3.103900]  </TASK>
[    3.104000] ---[ end trace 0000000000000000 ]---
[    3.110000] HARNESS-STEP-END: canary-WARNING rc=0
"""


def trig(cls):
    return next(t for t in TRIGGERS if t.cls == cls)


def test_bug_off_kernel_is_blind_to_warning():
    row = judge_trigger(trig("WARNING"), scan_text(BUG_OFF_LOG))
    assert not row.seen and "no report at all" in row.detail


def test_warning_seen_with_right_function():
    row = judge_trigger(trig("WARNING"), scan_text(WARNING_LOG))
    assert row.seen, row.detail
    assert "lkdtm_WARNING" in row.title


def test_right_kind_wrong_function_is_not_seen():
    log = WARNING_LOG.replace("lkdtm_WARNING", "some_other_function")
    assert not judge_trigger(trig("WARNING"), scan_text(log)).seen


def test_profile_catches_select_triggers():
    assert {t.cls for t in triggers_for(["WARNING", "PAGE_FAULT"])} == {"WARNING", "PAGE_FAULT",
                                                                         "UNLOADED_CALL"}


def test_clean_cell_on_blind_build_is_error(tmp_path, cfg):
    scen = Scenario("s", "d", (Step("a", "true"),), {"default": Expectation("clean")})
    crash = Scenario("c", "d", (Step("a", "true"),),
                     {"default": Expectation("report", kind="KASAN", title="x")})
    results = RunResults(tmp_path, "r")
    runner = Runner(cfg, {"s": scen, "c": crash}, RunOptions(), results, Reporter(2))
    info = BuildInfo(None, blind={"WARNING"})
    runner.builds[("v", "p")] = info

    def no_boot(*a, **k):
        raise AssertionError("a blind build's dependent cells must not need a guest")
    runner.boot = no_boot
    # the KASAN-expecting cell does not depend on WARNING: it would need a guest
    runner.run_batch("w0", info, [Cell("v", "p", "s")])
    cell = json.loads((results.dir / "cells/v.p.s/cell.json").read_text())
    assert cell["outcome"] == "error" and not cell["passed"]
    assert "kernel cannot report WARNING" in cell["why"]


KASAN_THEN_SPIN = """\
[   10.000000] HARNESS-STEP: wait
[   10.100000] ==================================================================
[   10.100001] BUG: KASAN: slab-use-after-free in dma_fence_enable_sw_signaling+0x2a/0x90
[   10.100002] Read of size 4 at addr ffff888004a1c000 by task fenceutil/77
[   10.100003] Call Trace:
[   10.100004]  <TASK>
[   10.100005]  dma_fence_enable_sw_signaling+0x2a/0x90
[   10.100006]  dma_fence_default_wait+0x40/0x200
[   10.100007]  </TASK>
[   10.100008] ==================================================================
"""


@pytest.mark.parametrize("death, earlier_step, outcome", [
    ("hang", False, "report"),    # the report, then the step spun on the freed lock
    ("hang", True, "report"),
    ("panic", False, "panic"),    # a panic's own oops is in the dying step
    ("panic", True, "report"),    # a report in an earlier step, then a panic
])
def test_report_before_a_death_is_the_finding(cfg, tmp_path, monkeypatch, death, earlier_step, outcome):
    import harness.run.runner as runner_mod
    from harness.scenarios.execute import ScenarioResult, StepResult

    log = KASAN_THEN_SPIN.replace("HARNESS-STEP: wait", "HARNESS-STEP: load") if earlier_step \
        else KASAN_THEN_SPIN
    steps = [StepResult("load", "x", 0, 0, 0.1, "", True),
             StepResult("wait", "y", None, 0, 15.0, "", False, note="did not finish")]

    def fake_run_scenario(guest, scenario, timeout, scan=None):
        return ScenarioResult(scenario.name, death, "step 'wait' did not finish", steps,
                              console_start=0)
    monkeypatch.setattr(runner_mod, "run_scenario", fake_run_scenario)

    class FakeGuest:
        class console:
            lines = log.splitlines()
    scen = Scenario("s", "d", (Step("load", "x"), Step("wait", "y")), {"default": Expectation("clean")})
    runner = Runner(cfg, {"s": scen}, RunOptions(), RunResults(tmp_path, "r"), Reporter(1))
    res = runner.run_one(FakeGuest(), scen)
    assert res.reports and res.reports[0].kind == "KASAN"
    assert res.outcome == outcome, res.detail


def test_a_harness_bug_in_a_worker_is_the_cells_error_not_a_traceback(tmp_path, cfg):
    scen = Scenario("s", "d", (Step("a", "true"),), {"default": Expectation("clean")})
    results = RunResults(tmp_path, "r")
    runner = Runner(cfg, {"s": scen}, RunOptions(jobs=1), results, Reporter(2))
    from types import SimpleNamespace
    runner.builds[("v", "p")] = BuildInfo(build=SimpleNamespace(key="k", release="6.12"))

    def broken_boot(*a, **k):
        raise RuntimeError("boom")
    runner.boot = broken_boot
    runner.run_cells([Cell("v", "p", "s"), Cell("v", "q", "s")])
    cells = {c.id: c.to_json() for c in results.cells}
    assert cells["v.p.s"]["outcome"] == "error" and "harness error: RuntimeError('boom')" in cells["v.p.s"]["why"]
    assert cells["v.q.s"]["outcome"] == "error"          # no build: decided without a guest
