"""A real run of a small matrix: two variants, a few scenarios, one expected
crash; JUnit and summary checked; batching equals running alone; an
interrupted run leaves readable results and no QEMU behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import faultkit as fk

pytestmark = pytest.mark.slow

VARIANTS = ["baseline", "inline-lock"]
SCENARIOS = ["stash-signaled-drop-after-unload", "stash-inline-drop-after-unload",
             "query-status-extern-static"]


def harness(root, *args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout)


def write_matrix(tmp_path: Path, variants, scenarios) -> Path:
    m = tmp_path / "matrix.yaml"
    m.write_text(f"variants: {json.dumps(variants)}\nprofiles: [debug]\nscenarios: {json.dumps(scenarios)}\n")
    return m


@pytest.fixture(scope="module")
def small_run(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    m = write_matrix(tmp, VARIANTS, SCENARIOS)
    proc = harness(root, "run", "--matrix", str(m), "--results", str(tmp / "results"),
                   "--junit", str(tmp / "junit.xml"))
    summary = json.loads((tmp / "results/latest/summary.json").read_text())
    return proc, summary, tmp


def test_small_matrix_gates_and_records(small_run):
    proc, summary, tmp = small_run
    assert summary["complete"] is True
    cells = {c["id"]: c for c in summary["cells"]}
    assert len(cells) == len(VARIANTS) * len(SCENARIOS), proc.stderr[-3000:]
    crash = cells["baseline.debug.stash-signaled-drop-after-unload"]
    assert crash["outcome"] == "report", crash
    assert any("dma_fence_release" in r["title"] for r in crash["reports"]), crash["reports"]
    assert crash["reports"][0]["last_unloaded"] == "fence_issuer"
    assert crash["passed"], crash["why"]          # the crash is the expected outcome on baseline
    fixed = cells["inline-lock.debug.stash-signaled-drop-after-unload"]
    assert fixed["outcome"] == "clean" and fixed["passed"], fixed
    assert cells["baseline.debug.stash-inline-drop-after-unload"]["outcome"] == "n/a"
    # exit status is the gate: 0 only when every cell matched
    assert proc.returncode == (0 if all(c["passed"] for c in cells.values()) else 1), proc.stderr[-2000:]
    # per-cell files
    d = tmp / "results/latest" / crash["dir"]
    for f in ("console.log", "kernel.log", "reports.json", "reports.txt", "qemu-cmdline.txt", "repro.sh",
              "cell.json"):
        assert (d / f).is_file(), f
    assert "qemu-system-x86_64" in (d / "qemu-cmdline.txt").read_text()
    assert "dma_fence_release" in (d / "reports.txt").read_text()
    # JUnit: one testcase per cell, skipped for n/a
    root_el = ET.parse(tmp / "junit.xml").getroot()
    cases = list(root_el.iter("testcase"))
    cell_cases = [c for c in cases if ".canary" not in (c.get("classname") or "")]
    assert len(cell_cases) == len(cells)
    skipped = [c for c in cell_cases if c.find("skipped") is not None]
    assert len(skipped) == 1
    md = (tmp / "results/latest/summary.md").read_text()
    assert "stash-signaled-drop-after-unload" in md


def test_batched_cell_equals_cell_alone(root, small_run, tmp_path):
    _, summary, _ = small_run
    batched = {c["id"]: c for c in summary["cells"]}
    cid = "inline-lock.debug.query-status-extern-static"
    proc = harness(root, "run", "--matrix", str(write_matrix(tmp_path, ["inline-lock"],
                                                             ["query-status-extern-static"])),
                   "--results", str(tmp_path / "r"), "--no-canary")
    alone = json.loads((tmp_path / "r/latest/summary.json").read_text())["cells"][0]
    assert alone["id"] == cid
    assert alone["outcome"] == batched[cid]["outcome"]
    assert sorted(r["signature"] for r in alone["reports"]) == \
        sorted(r["signature"] for r in batched[cid]["reports"])


BLOCKED = fk.QUICK_AND_BLOCKER


def test_interrupted_run_leaves_readable_results(root, tmp_path):
    """Ctrl-C while a step is known to be running (it never ends by itself), once a
    cell is recorded: exit 130, an incomplete but readable summary, no QEMU left.
    (It used to wait for two cells of a six-cell run, which could finish first.)"""
    from tests.conftest import qemu_pids
    conf = fk.make_project(tmp_path, BLOCKED)
    results = tmp_path / "r"
    run = fk.Started(tmp_path, "run", "run", "--config", str(conf), "--results", str(results),
                     "--no-canary", "-j", "2")
    summary_path = results / "latest/summary.json"

    def recorded() -> int:
        s = json.loads(summary_path.read_text()) if summary_path.exists() else {"cells": []}
        return len(s["cells"])
    fk.wait_until(lambda: fk.step_running(results, "block-here") and recorded() >= 1,
                  "the blocking step to run and a cell to be recorded", alive=run)
    run.proc.send_signal(signal.SIGINT)
    assert run.wait(timeout=120) == 130, run.stderr[-2000:]
    s = json.loads(summary_path.read_text())
    assert s["complete"] is False and s["note"] == "interrupted"
    assert 1 <= len(s["cells"]) <= 2 and "blocker" not in {c["scenario"] for c in s["cells"]}
    for c in s["cells"]:
        assert (results / "latest" / c["dir"] / "cell.json").is_file()
    fk.wait_until(lambda: not qemu_pids(), "QEMU to be gone after an interrupted run", timeout=30)


def test_cells_over_ssh(root, tmp_path):
    """The same cells over the SSH transport: guest helpers on PATH, a daemon
    holding a sync_file does not block the channel, the crash still found on
    the serial console."""
    m = write_matrix(tmp_path, ["baseline"], ["stash-signaled-drop-after-unload",
                                              "syncfile-signaled-drop-after-unload"])
    proc = harness(root, "run", "--matrix", str(m), "--results", str(tmp_path / "r"), "--no-canary",
                   "--transport", "ssh")
    cells = json.loads((tmp_path / "r/latest/summary.json").read_text())["cells"]
    assert proc.returncode == 0, [(c["id"], c["why"]) for c in cells]
    assert all(c["outcome"] == "report" and "dma_fence_release" in c["reports"][0]["title"] for c in cells)


def test_panic_hang_and_failed_check_are_recorded(root, tmp_path):
    """Every way a cell can go wrong ends as a recorded outcome, not a stuck run."""
    import yaml
    conf = yaml.safe_load((root / "configs/harness.yaml").read_text())
    conf.update(series_dir=str(root / "kernel-patches"), kconfig_dir=str(root / "configs/kconfig"),
                scenarios_dir=str(tmp_path / "scen"), matrix=str(tmp_path / "m.yaml"))
    (tmp_path / "scen").mkdir()
    (tmp_path / "h.yaml").write_text(yaml.safe_dump(conf))
    (tmp_path / "scen/s.yaml").write_text(textwrap_scen)
    (tmp_path / "m.yaml").write_text("variants: [baseline]\nprofiles: [debug]\nscenarios: ['*']\n")
    proc = harness(root, "run", "--config", str(tmp_path / "h.yaml"), "--results", str(tmp_path / "r"),
                   "--no-canary", timeout=600)
    cells = {c["scenario"]: c for c in json.loads((tmp_path / "r/latest/summary.json").read_text())["cells"]}
    assert cells["panics"]["outcome"] == "panic"
    assert cells["hangs"]["outcome"] == "hang" and "sleepy" in cells["hangs"]["detail"]
    assert cells["fails-check"]["outcome"] == "check-failed"
    assert cells["after-all-that"]["outcome"] == "clean"
    assert all(c["passed"] for c in cells.values()), [(c["scenario"], c["why"]) for c in cells.values()]
    assert proc.returncode == 0


textwrap_scen = """\
scenarios:
  - name: panics
    steps:
      - {name: crash, run: "echo c > /proc/sysrq-trigger"}
    expect: {default: {outcome: panic, reason: sysrq-c}}
  - name: hangs
    steps:
      - {name: sleepy, run: "sleep 60", timeout_s: 3}
    expect: {default: {outcome: hang, reason: step budget}}
  - name: fails-check
    steps:
      - {name: nope, run: "false"}
    expect: {default: {outcome: check-failed, reason: exit 1}}
  - name: after-all-that
    steps:
      - {name: ok, run: "true"}
"""


def test_shards_merge_into_the_whole_run(root, small_run, tmp_path):
    _, summary, _ = small_run
    whole = {c["id"]: c["outcome"] for c in summary["cells"]}
    m = write_matrix(tmp_path, VARIANTS, SCENARIOS)
    shard_dirs = []
    for k in (1, 2):
        proc = harness(root, "run", "--matrix", str(m), "--shard", f"{k}/2", "--no-canary",
                       "--results", str(tmp_path / f"s{k}"))
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        shard_dirs.append(str((tmp_path / f"s{k}/latest").resolve()))
    ids = [{c["id"] for c in json.loads((Path(d) / "summary.json").read_text())["cells"]} for d in shard_dirs]
    assert ids[0] and ids[1] and not ids[0] & ids[1], "shards split the cells without overlap"
    proc = harness(root, "merge", *shard_dirs, "--results", str(tmp_path / "merged"),
                   "--junit", str(tmp_path / "merged.xml"))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    merged = json.loads((tmp_path / "merged/latest/summary.json").read_text())
    assert {c["id"]: c["outcome"] for c in merged["cells"]} == whole
    cases = [c for c in ET.parse(tmp_path / "merged.xml").getroot().iter("testcase")
             if ".canary" not in (c.get("classname") or "")]
    assert len(cases) == len(whole)


def test_repro_of_a_crash_cell_reproduces(root, small_run, tmp_path):
    _, summary, tmp = small_run
    crash = next(c for c in summary["cells"] if c["id"] == "baseline.debug.stash-signaled-drop-after-unload")
    proc = harness(root, "repro", str(tmp / "results/latest" / crash["dir"]), "--results", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "REPRODUCED" in proc.stdout and "NOT REPRODUCED" not in proc.stdout


def test_repro_shell_stops_before_the_failing_step(root, small_run, no_orphan_qemu):
    import pexpect
    _, summary, tmp = small_run
    crash = next(c for c in summary["cells"] if c["id"] == "baseline.debug.stash-signaled-drop-after-unload")
    p = pexpect.spawn(sys.executable, ["-m", "harness", "repro", str(tmp / "results/latest" / crash["dir"]),
                                       "--shell"], cwd=str(root), encoding="utf-8", timeout=120)
    p.expect(r"stopped before step 'drop'")
    p.expect("Ctrl-] to leave")
    p.sendline("lsmod | grep -c fence_issuer; echo mark-$((6*7))")
    p.expect(r"0\s+mark-42")                  # the issuer is already unloaded, as in the run
    p.send("\x1d")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0
