"""Issue 16 end to end, with real builds: a variant whose build lacks a feature it
should have fails its cells (hole 1), and a run with both a harness error and a
failed cell exits 3 with both counted (hole 4)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests import faultkit as fk

pytestmark = pytest.mark.slow

SCENARIOS = """\
scenarios:
  - name: needs-inline
    requires: [inline_lock]
    steps:
      - {name: ok, run: "true"}
    expect: {default: {outcome: n/a, reason: no inline lock}, inline-lock: {outcome: clean, reason: has it}}
  - name: plain
    steps:
      - {name: ok, run: "true"}
"""


def test_feature_missing_on_a_variant_that_should_have_it_fails(tmp_path):
    """inline-lock declared without the inline lock (as when a series renames the
    flag the probe looks for): its inline cell is n/a, and must FAIL, not pass."""
    conf = fk.make_project(tmp_path, SCENARIOS, variants=["inline-lock", "baseline"],
                           features={"inline-lock": {"inline_lock": False}})
    proc = fk.run("run", "--config", str(conf), "--results", str(tmp_path / "r"), "--no-canary",
                  "-k", "needs-inline", "--junit", str(tmp_path / "j.xml"))
    s = fk.summary(tmp_path / "r")
    cells = {c["variant"]: c for c in s["cells"]}
    lost, fine = cells["inline-lock"], cells["baseline"]
    assert lost["outcome"] == "n/a" and not lost["passed"], lost
    assert "feature inline_lock missing on this build" in lost["why"]
    assert fine["outcome"] == "n/a" and fine["passed"]          # n/a is baseline's expectation
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert s["totals"]["failed"] == 1 and s["totals"]["n/a"] == 1, s["totals"]
    assert "FAIL  inline-lock.debug.needs-inline" in proc.stderr
    assert "1 failed" in proc.stderr.splitlines()[-1]
    case = next(tc for tc in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
                if tc.get("classname") == "inline-lock.debug")
    assert case.find("failure") is not None and case.find("skipped") is None


def test_harness_error_and_failed_cell_exit_3_both_counted(tmp_path):
    """QEMU cannot start (guest memory it cannot allocate): a harness error; the
    unexpected n/a of the same run is a failed cell. Before: exit 1."""
    conf = fk.make_project(tmp_path, SCENARIOS, variants=["inline-lock"],
                           guest={"memory_mb": 100_000_000, "snapshot": False},
                           features={"inline-lock": {"inline_lock": False}})
    proc = fk.run("run", "--config", str(conf), "--results", str(tmp_path / "r"), "--no-canary",
                  "-j", "1")
    assert proc.returncode == 3, proc.stderr[-2000:]
    cells = fk.cells(tmp_path / "r")
    assert cells["plain"]["outcome"] == "error" and "qemu-failed" in cells["plain"]["detail"], cells["plain"]
    assert cells["plain"]["harness_error"] is True
    assert cells["needs-inline"]["outcome"] == "n/a" and not cells["needs-inline"]["passed"]
    t = fk.summary(tmp_path / "r")["totals"]
    assert t["failed"] == 1 and t["errors"] == 1, t
    assert fk.summary(tmp_path / "r")["exit_status"] == 3
    last = proc.stderr.strip().splitlines()[-1]
    assert "1 failed, 1 harness errors" in last, last
