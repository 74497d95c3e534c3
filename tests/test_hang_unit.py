"""Fast tests of the deadline machinery: the slow-vs-stuck arithmetic on a fake clock, the
calibration factor, and the SysRq dump parsers on a dump taken from a real guest."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.config import GuestConfig
from harness.detect import scan_lines
from harness.vm import calibrate, sysrq
from harness.vm.watch import BUSY_CPU_FRACTION, StepWatch, new_lines, window_for

FIXTURES = Path(__file__).parent / "fixtures" / "hang"


class FakeGuest:
    """A watch.Probe over a scripted guest: a clock, console lines, vCPU seconds, reports."""

    def __init__(self):
        self.t = 1000.0
        self.console: list[str] = []
        self.vcpu = 0.0
        self.titles: list[str] = []

    def now(self):
        return self.t

    def line_count(self):
        return len(self.console)

    def lines(self, start, end):
        return self.console[start:end]

    def vcpu_seconds(self):
        return self.vcpu

    def reports(self):
        return list(self.titles)

    # scripting
    def advance(self, seconds, cpu_share=0.0, lines=()):
        self.t += seconds
        self.vcpu += seconds * cpu_share
        self.console.extend(lines)


def run_until_decision(watch, guest, each=None):
    """Drive the watch like a transport does: wait what it says, then check; `each(dt)`
    scripts what the guest does while the harness waits."""
    for _ in range(1000):
        dt = watch.wait_s()
        if each:
            each(dt)
        else:
            guest.advance(dt)
        d = watch.check()
        if d is not None:
            return d
    raise AssertionError("the watch never decided")


def test_idle_step_is_stuck_at_its_deadline_without_extension():
    g = FakeGuest()
    w = StepWatch(g, budget_s=100, start_line=0)
    d = run_until_decision(w, g, lambda dt: g.advance(dt, cpu_share=0.02))
    assert d.kind == "stuck" and d.hung
    assert g.t == pytest.approx(1100.0), "decided exactly at the deadline"
    assert not w.extended and w.extension_s == 0
    assert "no progress" in d.why and d.window_s == pytest.approx(window_for(100))


def test_busy_vcpus_get_one_extension_then_hang_as_slow():
    g = FakeGuest()
    w = StepWatch(g, budget_s=40, start_line=0)
    busy = lambda dt: g.advance(dt, cpu_share=0.9)   # noqa: E731
    first = run_until_decision(w, g, busy)
    assert first.kind == "extend" and first.extension_s == 40 and not first.hung
    assert "budget extended once by 40 s" in first.why and "vCPUs busy" in first.why
    assert w.deadline == pytest.approx(1080.0)
    second = run_until_decision(w, g, busy)
    assert second.kind == "slow" and second.hung, "never a second extension"
    assert g.t == pytest.approx(1080.0)
    assert "after its one extension" in second.why and "the stacks say where" in second.why


def test_progress_lines_get_an_extension_and_the_step_may_then_finish():
    g = FakeGuest()
    w = StepWatch(g, budget_s=20, start_line=0)
    n = iter(range(1000))
    d = run_until_decision(w, g, lambda dt: g.advance(dt, lines=[f"[  1.0] progress {next(n)}"]))
    assert d.kind == "extend" and "new console line" in d.why
    # the step ends within its extension: the transport simply stops asking


def test_the_same_line_again_and_again_is_not_progress():
    g = FakeGuest()
    w = StepWatch(g, budget_s=20, start_line=0)
    d = run_until_decision(w, g, lambda dt: g.advance(dt, lines=[f"[ {g.t:.1f}] waiting for the fence"]))
    assert d.kind == "stuck"
    assert new_lines(["[ 1.0] a"], ["[ 2.0] a", "[ 3.0] b", "[ 4.0] b", "harness: note"]) == 1


def test_a_kernel_report_means_no_extension_even_when_busy():
    g = FakeGuest()
    w = StepWatch(g, budget_s=30, start_line=0)

    def spin(dt):
        g.advance(dt, cpu_share=1.0, lines=["[ 22.0] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [sh:41]"])
        g.titles[:] = ["BUG: soft lockup in stall_busy_loop"]
    d = run_until_decision(w, g, spin)
    assert d.kind == "stuck" and "soft lockup" in d.why and not w.extended


def test_only_the_window_counts_a_step_that_computed_then_blocked_is_stuck():
    g = FakeGuest()
    w = StepWatch(g, budget_s=200, start_line=0)
    # busy and chatty for the first 130 s, then nothing: the window is the last 60 s
    g.advance(130, cpu_share=1.0, lines=[f"line {i}" for i in range(50)])
    d = run_until_decision(w, g, lambda dt: g.advance(dt, cpu_share=0.01))
    assert d.kind == "stuck" and d.window_s == pytest.approx(60.0) and d.new_lines == 0


def test_busy_threshold_is_relative_to_the_window():
    g = FakeGuest()
    w = StepWatch(g, budget_s=10, start_line=0)
    share = BUSY_CPU_FRACTION * 0.9
    d = run_until_decision(w, g, lambda dt: g.advance(dt, cpu_share=share))
    assert d.kind == "stuck"
    g2 = FakeGuest()
    w2 = StepWatch(g2, budget_s=10, start_line=0)
    d2 = run_until_decision(w2, g2, lambda dt: g2.advance(dt, cpu_share=BUSY_CPU_FRACTION * 1.1))
    assert d2.kind == "extend"


def test_unknown_vcpu_time_without_output_is_stuck():
    g = FakeGuest()
    g.vcpu_seconds = lambda: None
    d = run_until_decision(StepWatch(g, budget_s=10, start_line=0), g)
    assert d.kind == "stuck" and "unknown" in d.why


def test_a_late_wakeup_still_decides_on_the_step_so_far():
    g = FakeGuest()
    w = StepWatch(g, budget_s=10, start_line=0)
    g.advance(30, cpu_share=0.5)       # the harness was descheduled past the whole budget
    d = w.check()
    assert d.kind == "extend" and w.deadline == pytest.approx(1020.0)


# -- calibration -------------------------------------------------------------

def test_factor_is_the_median_over_the_reference_never_below_one():
    assert calibrate.factor_from([4.0, 3.0, 100.0], reference_s=2.0) == (2.0, "")
    assert calibrate.factor_from([1.0, 1.1, 0.9], reference_s=2.0) == (1.0, "")
    factor, note = calibrate.factor_from([500.0], reference_s=2.0)
    assert factor == calibrate.MAX_FACTOR and "capped" in note
    with pytest.raises(ValueError):
        calibrate.factor_from([])


class FakeClockGuest:
    """A guest whose workload takes `seconds` on a shared fake clock."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds, self.killed, self.runs = clock, seconds, False, 0

    def run(self, cmd, timeout, step):
        assert cmd == calibrate.WORKLOAD and step == "calibrate"
        self.runs += 1
        self.clock.t += self.seconds

    def kill(self):
        self.killed = True


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_measure_times_every_run_of_every_guest_and_kills_them():
    clock = FakeClock()
    guests = []

    def start(i):
        guests.append(FakeClockGuest(clock, 3.0))
        return guests[-1]
    times = calibrate.measure(start, guests=2, reps=3, clock=clock)
    assert len(times) == 6 and all(t >= 3.0 for t in times)
    assert [g.runs for g in guests] == [3, 3] and all(g.killed for g in guests)


def test_resolve_measures_caches_and_applies(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    clock = FakeClock()
    monkeypatch.setattr(calibrate.time, "monotonic", clock)
    made = []

    def start(i):
        made.append(FakeClockGuest(clock, 3 * calibrate.REFERENCE_S))
        return made[-1]
    auto = GuestConfig()
    assert auto.tcg_slowdown is None, "auto is the default"
    cal = calibrate.resolve(auto, "tcg", "QEMU x", start, guests=1, fresh=True)
    assert cal.source == "measured" and cal.factor == 3.0 and len(cal.samples_s) == calibrate.REPS
    assert "x3.00" in cal.describe()
    # cached per host: no guest started the second time
    n = len(made)
    again = calibrate.resolve(auto, "tcg", "QEMU x", start, guests=1)
    assert again.source == "cached" and again.factor == 3.0 and len(made) == n
    # an explicit factor in the config wins, KVM is not scaled
    assert calibrate.resolve(GuestConfig(tcg_slowdown=1.5), "tcg", "QEMU x", start).factor == 1.5
    assert calibrate.resolve(auto, "kvm", "QEMU x", start).factor == 1.0
    assert calibrate.last_calibration(auto, "tcg", "QEMU y", why="boom").factor == 1.0


def test_the_guest_scales_every_budget_by_the_factor():
    from harness.vm.guest import Guest
    from harness.vm.qemu import QemuSpec
    g = Guest(QemuSpec(Path("k"), Path("i"), "tcg"), Path("/tmp/harness-test-unused"), boot_timeout=60,
              slowdown=2.5)
    assert g.boot_timeout == 150 and g.slowdown == 2.5


def test_detector_thresholds_scale_from_the_kernels_values_within_its_limits():
    line = calibrate.detector_script(2.5)
    assert "* 250 / 100" in line and line.endswith("\n") and "\n" not in line[:-1]
    for path, cap in calibrate.DETECTORS:
        assert f"__hs {path} {cap};" in line


def test_config_takes_auto_or_a_number(tmp_path):
    from harness.core.config import load_config
    from harness.core.errors import ConfigError
    from tests.test_config import write_project
    shipped = (Path(__file__).parent.parent / "configs" / "harness.yaml").read_text()
    assert "tcg_slowdown: auto" in shipped, "the shipped config measures"
    minimal = ("sources: {s: {debian: linux-source-6.12}}\nvariants: {v: {source: s}}\n"
               "profiles: {p: {fragments: [base.config]}}\n")
    assert load_config(write_project(tmp_path / "a", minimal)).guest.tcg_slowdown is None
    for value, want in (("auto", None), ("2.5", 2.5), ("1", 1.0)):
        cfg = write_project(tmp_path / value, minimal + f"guest: {{tcg_slowdown: {value}}}\n")
        assert load_config(cfg).guest.tcg_slowdown == want
    for bad in ("fast", "0.5"):
        with pytest.raises(ConfigError):
            load_config(write_project(tmp_path / bad, minimal + f"guest: {{tcg_slowdown: {bad}}}\n"))


# -- SysRq dumps ---------------------------------------------------------------

def _dump(name):
    return (FIXTURES / name).read_text().splitlines()


def test_cpu_stacks_name_the_spinning_function():
    lines = _dump("sysrq-spin-quiet.log")
    start = next(i for i, l in enumerate(lines) if "sysrq: Show backtrace of all active CPUs" in l)
    cpus = sysrq.parse_cpus(lines[start:])
    assert [c.who.split(" ")[0] for c in cpus] == ["cpu0", "cpu1"]
    spinning = [c for c in cpus if "stall_busy_loop [harness_stall]" in c.frames]
    assert len(spinning) == 1 and not spinning[0].idle
    assert "(sh pid" in spinning[0].who
    assert "stall_busy_loop" in spinning[0].path(), "the summary names it"


def test_idle_cpus_and_user_tasks_from_a_healthy_dump():
    lines = _dump("sysrq-sleep.log")
    cpus = sysrq.parse_cpus(lines)
    assert cpus and all(c.idle for c in cpus)
    tasks = sysrq.user_tasks(sysrq.parse_tasks(lines))
    sleep = [t for t in tasks if t.who.startswith("task sleep ")]
    assert sleep and sleep[0].state == "S" and sleep[0].where == "do_nanosleep"
    assert not any(t.pid in (1, 2) or t.ppid == 2 for t in tasks), "no init, no kernel threads"


def test_blocked_task_dump():
    lines = _dump("sysrq-block.log")
    start = next(i for i, l in enumerate(lines) if "sysrq: Show Blocked State" in l)
    blocked = [t for t in sysrq.parse_tasks(lines[start:]) if t.state == "D"]
    assert len(blocked) == 1 and "stall_blocked_sleep [harness_stall]" in blocked[0].frames


@pytest.mark.parametrize("name", ["sysrq-sleep.log", "sysrq-block.log", "sysrq-spin-quiet.log"])
def test_the_detector_finds_no_report_in_a_dump_of_a_kernel_that_reported_nothing(name):
    assert scan_lines(_dump(name)) == []


def test_evidence_summary_says_when_the_kernel_did_not_answer():
    from harness.vm.evidence import Evidence
    from harness.vm.hostview import PcSamples
    ev = Evidence({"kind": "stuck"}, vcpu_busy={0: 0.97, 1: 0.01}, answered={"l": False},
                  pcs=PcSamples(per_cpu={0: ["stall_busy_loop+0x10", "stall_busy_loop+0x14", "ktime_get+0x3"],
                                         1: ["default_idle+0x13"]}))
    text = ev.summary()
    assert "cpu0 97%" in text and "no answer to SysRq l" in text
    assert "cpu0 at stall_busy_loop" in text, "the monitor's PCs stand in for the stacks"
    assert ev.to_json()["pcs"]["top"] == {"0": "stall_busy_loop", "1": "default_idle"}


def test_parse_registers_of_every_vcpu():
    from harness.vm.hostview import Symbols, parse_registers
    text = ("CPU#0\nRAX=0000000000000000 RBX=ffffffff82a0a8c0\nRIP=ffffffff81f2c3a3 RFL=00000246\n"
            "CPU#1\nRIP=ffffffffa0010120 RFL=00000202\n")
    assert parse_registers(text) == {0: 0xffffffff81f2c3a3, 1: 0xffffffffa0010120}
    sym = Symbols(None)
    sym.addrs, sym.names = [0xffffffff81f2c380, 0xffffffff81f2c400], ["default_idle", "other"]
    assert sym.name(0xffffffff81f2c3a3) == "default_idle+0x23"
    assert sym.name(0xffffffffa0010120).endswith("(module)")


def test_interrupt_work_a_cpu_was_caught_in_is_its_work():
    """An NMI'd CPU busy in an irq_work (wait_backward's chain re-arming) names that work; the
    SysRq CPU's own dumping is not work."""
    lines = _dump("sysrq-wait-backward.log")
    cpus = sysrq.parse_cpus(lines)
    busy = [c for c in cpus if not c.idle]
    assert len(busy) == 1 and busy[0].culprit() == "dma_fence_chain_get_prev"
    assert "dma_fence_chain_irq_work" in busy[0].frames and "wait_backward [dmabuf_selftests]" in busy[0].frames
    assert not any(f.startswith(("nmi_cpu_backtrace", "__handle_sysrq")) for c in cpus for f in c.frames)
    assert scan_lines(lines) == []
