"""Real guests at a step's deadline: stuck steps are hangs with the kernel's own account of
where they are; a slow step that shows progress gets its one extension and passes; the run
measures the host and applies the factor.

Budgets here are explicit (slowdown 1): the tests decide how long a step may take, and the
steps are built to last well past them (or, for the slow one, past one budget but never
past two, with host time to spare).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.scenarios.execute import run_scenario
from harness.scenarios.spec import Expectation, Scenario, Step
from harness.vm.boot import make_guest
from harness.vm.guest import GuestDied

pytestmark = pytest.mark.slow

STALL = "/sys/kernel/debug/harness_stall"


@pytest.fixture
def guest(cfg, default_build, tmp_path, no_orphan_qemu):
    made = []

    def make(**kw):
        kw.setdefault("slowdown", 1.0)
        g = make_guest(cfg.guest, default_build, tmp_path / f"g{len(made)}", root=cfg.root, **kw)
        made.append(g)
        return g.start()
    yield make
    for g in made:
        g.kill()


def scenario(*steps: Step, timeout_s: float = 600) -> Scenario:
    return Scenario(name="t", description="", tags=(), requires=(), timeout_s=timeout_s, steps=tuple(steps),
                    expect={"default": Expectation("clean")})


def test_kernel_spinning_past_its_budget_is_a_hang_naming_the_spinning_function(guest):
    """A CPU spinning with preemption off, quietly (it touches the soft lockup watchdog, so
    the kernel reports nothing): busy vCPUs look like progress, so one extension, then the
    hang, with the stacks of every CPU. The stall is capped in the module; the guest lives
    until the evidence is in and is killed after."""
    g = guest()
    res = run_scenario(g, scenario(
        Step(name="load", run="modprobe harness_stall"),
        Step(name="spin", run=f"echo 600000 > {STALL}/spin_quiet", timeout_s=8)))
    assert res.outcome == "hang"
    step = res.steps[-1]
    ev = step.evidence
    assert ev is not None and ev["sysrq_answered"] == {"l": True, "w": True, "t": True}
    assert ev["decision"]["kind"] == "slow", "busy but silent: extended once, then hung"
    assert "extended once" in step.note and "slow" in step.note
    # the NMI finds the spinning CPU in the loop itself (its RIP) or in a callee of it
    spinning = [c for c in ev["cpus"] if c["where"].startswith("stall_busy_loop")
                or "stall_busy_loop [harness_stall]" in c["frames"]]
    assert len(spinning) == 1, ev["cpus"]
    assert "stall_busy_loop" in ev["summary"]
    assert max(ev["vcpu_busy"].values()) > 0.15, "the spinning vCPU used host CPU"
    # the dumps are in the console, the detector finds no report in them, the guest is gone
    log = g.console_log.read_text()
    assert "sysrq: Show backtrace of all active CPUs" in log and "NMI backtrace for cpu" in log
    from harness.detect import scan_lines
    assert scan_lines(g.console.lines[res.console_start:]) == []
    assert not g.alive()


def test_user_space_sleep_past_its_budget_is_a_hang_with_the_sleeping_task(guest):
    g = guest()
    res = run_scenario(g, scenario(Step(name="nap", run="sleep 600", timeout_s=5)))
    assert res.outcome == "hang"
    step = res.steps[0]
    ev = step.evidence
    assert ev["decision"]["kind"] == "stuck" and "no progress" in step.note
    assert "extended" not in step.note, "no progress: no extension"
    sleep = [t for t in ev["tasks"] if t["who"].startswith("task sleep ")]
    assert sleep and sleep[0]["state"] == "S" and "do_nanosleep" in [sleep[0]["where"]] + sleep[0]["frames"]
    # the sleeping task is on no CPU (a CPU may be caught in other work: a kworker, the
    # SysRq dump itself; once, in a full suite run, one was)
    assert not any(c["who"].startswith(("cpu0 (sleep", "cpu1 (sleep")) for c in ev["cpus"]), ev["cpus"]
    assert "sleep (pid" in ev["summary"]


def test_task_blocked_in_the_kernel_is_in_the_blocked_tasks(guest):
    g = guest()
    res = run_scenario(g, scenario(
        Step(name="load", run="modprobe harness_stall"),
        Step(name="block", run=f"echo 600000 > {STALL}/block", timeout_s=5)))
    assert res.outcome == "hang"
    ev = res.steps[-1].evidence
    assert [b for b in ev["blocked"] if "stall_blocked_sleep [harness_stall]" in b["frames"]]
    assert "blocked: sh (pid" in ev["summary"]


def test_slow_step_printing_progress_gets_its_extension_and_passes(guest):
    """25 seconds of guest sleeps (at least 25 s of host time: the guest's clock never runs
    ahead of the host's) against a 20 s budget: one extension to 40 s."""
    g = guest()
    loop = "i=0; while [ $i -lt 25 ]; do i=$((i+1)); echo progress $i; sleep 1; done"
    res = run_scenario(g, scenario(Step(name="slow", run=loop, timeout_s=20)))
    assert res.outcome == "clean", res.detail
    step = res.steps[0]
    assert step.ok and step.duration_s > 20
    assert "new console line" in step.extension and "extended once" in step.extension
    assert "slow, not stuck" in step.note
    assert step.output.count("progress") == 25


def test_hang_over_ssh_has_the_same_evidence(guest):
    g = guest(transport="ssh")
    with pytest.raises(GuestDied) as died:
        g.run("sleep 600", timeout=5, step="nap")
    assert died.value.kind == "timeout" and died.value.evidence is not None
    assert any(t.who.startswith("task sleep ") for t in died.value.evidence.tasks)


def test_kernel_detectors_are_scaled_like_the_budgets(guest):
    g = guest(slowdown=2.0)
    out = g.run("cat /proc/sys/kernel/hung_task_timeout_secs /proc/sys/kernel/watchdog_thresh "
                "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", timeout=20).output.split()
    assert out == ["240", "20", "120"]
    g1 = guest(slowdown=1.0)
    assert g1.run("cat /proc/sys/kernel/hung_task_timeout_secs", timeout=20).output.split() == ["120"]


def test_run_measures_the_host_and_records_the_factor(root, default_build, tmp_path, no_orphan_qemu):
    cell = f"{default_build.variant}.{default_build.profile}.stash-signaled-drop-after-unload"
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "-k", cell, "-j", "1", "--no-canary",
                           "--results", str(tmp_path)], cwd=root, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode in (0, 1), proc.stderr
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    cal = summary["calibration"]
    assert cal["source"] in ("measured", "kvm") and cal["factor"] >= 1.0
    assert summary["inputs"]["guest"]["tcg_slowdown"] == cal["factor"]
    if cal["source"] == "measured":
        assert len(cal["samples_s"]) == 3 and cal["guests"] == 1
        assert "calibration: budgets x" in proc.stderr
