"""harness gate without guests: the culprit search, the renderings, the inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.intake.read import read_series_args
from harness.model import CellResult, Expectation, Outcome, ReportRef
from harness.model.checks import CheckName, CheckResult, Finding, Severity, Status
from harness.model.gate import GateCell, GatePatch, GateSummary
from harness.output.gate_report import gate_junit, gate_markdown, gate_text
from harness.run.culprit import find_culprits
from harness.run.gate import find_gate, plan_cells

SERIES = Path(__file__).parent / "fixtures" / "series"


def test_culprits_of_several_cells_share_prefix_runs():
    first_bad = {"a": 3, "b": 3, "c": 7, "d": 1}
    calls = []

    def regresses(k, cells):
        calls.append((k, tuple(sorted(cells))))
        return {c: k >= first_bad[c] for c in cells}
    assert find_culprits(8, list(first_bad), regresses) == first_bad
    prefixes = [k for k, _ in calls]
    assert len(prefixes) == len(set(prefixes)), "a prefix ran twice"
    assert all(0 < k < 8 for k in prefixes)
    # each cell alone would need 3 prefixes (log2 8); together they share them
    assert len(calls) < 3 * len(first_bad)


@pytest.mark.parametrize("n, bad", [(2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (5, 4), (16, 9)])
def test_culprit_is_the_first_regressing_prefix(n, bad):
    assert find_culprits(n, ["x"], lambda k, cells: {c: k >= bad for c in cells}) == {"x": bad}


def summary() -> tuple[GateSummary, dict]:
    patches = [GatePatch(1, "dma-buf: fix comments", "0001-a.patch", "a" * 64, "A <a@x>"),
               GatePatch(2, "dma-buf: warn twice", "0002-b.patch", "b" * 64, "A <a@x>",
                         culprit_of=["baseline+k.debug.selftests"],
                         checks=[CheckResult(CheckName.SPARSE, Status.FAILED, "1 new warning",
                                             [Finding(CheckName.SPARSE, "drivers/dma-buf/x.c", 12,
                                                      "incompatible types in comparison expression "
                                                      "(different address spaces)", Severity.WARNING,
                                                      function="f", new=True),
                                              Finding(CheckName.SPARSE, "drivers/dma-buf/x.c", 40, "old one",
                                                      Severity.WARNING, function="g", new=False)]),
                                 CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN,
                                             "no scripts/checkpatch.pl in the tree")],
                         check_failures=["sparse: 1 new warning"],
                         unverified=["checkpatch: not-run: no scripts/checkpatch.pl in the tree"])]
    cells = [GateCell("debug", "selftests", "baseline.debug.selftests", "baseline+k.debug.selftests",
                      "regression", "clean on the base; with the series a new report", True,
                      base_outcome="clean", head_outcome="report", new_signatures=["sig"], culprit=2,
                      culprit_why="first regressing prefix 2/2 (prefixes 1: clean)"),
             GateCell("debug", "other", "baseline.debug.other", "baseline+k.debug.other", "unchanged", "", False,
                      base_outcome="clean", head_outcome="clean")]
    s = GateSummary(series={"source": "mbox", "origin": "x.mbox", "key": "k" * 64, "revision": 2},
                    on="baseline", head_variant="baseline+k", base_dir="base", base_cached=True,
                    patches=patches, cells=cells)
    head = CellResult("baseline+k", "debug", "selftests", Outcome.REPORT, Expectation("clean"), False,
                      reports=[ReportRef("WARNING", "WARNING in dma_fence_signal_timestamp_locked", "sig",
                                         text="WARNING: CPU: 0 PID: 1 at drivers/dma-buf/dma-fence.c:1\n"
                                              " dma_fence_signal+0x1/0x2 drivers/dma-buf/dma-fence.c:420")],
                      dir="cells/baseline+k.debug.selftests")
    return s, {"debug.selftests": head}


def test_gate_markdown_names_the_culprit_the_report_and_the_repro(tmp_path):
    s, head = summary()
    md = gate_markdown(s, head, tmp_path, "results/r1")
    assert md.startswith("# Gate: ") and "(v2)" in md
    assert "FAIL: 1 regression(s)" in md
    assert "first bad patch: **2/2 'dma-buf: warn twice'**" in md
    assert "WARNING in dma_fence_signal_timestamp_locked" in md and "dma-fence.c:420" in md
    assert "harness repro results/r1/cells/baseline+k.debug.selftests" in md
    assert ">> drivers/dma-buf/x.c:12: warning: incompatible types in comparison expression " \
           "(different address spaces) (in f)" in md
    assert "   drivers/dma-buf/x.c:40: warning: old one (in g)" in md     # not new: no >>
    assert "**checkpatch**: not-run: no scripts/checkpatch.pl" in md
    assert "**sparse**: failed" in md and "fails the gate" in md
    assert "## Unchanged (1 cells)" in md
    text = gate_text(s, tmp_path)
    assert "REGRESSION debug/selftests" in text and "CHECK patch 2/2 'dma-buf: warn twice': sparse" in text


def test_gate_junit_has_a_suite_per_patch_and_the_cells():
    s, _ = summary()
    root = ET.fromstring(gate_junit(s))
    suites = {ts.get("name"): ts for ts in root.iter("testsuite")}
    assert "patch 1/2: dma-buf: fix comments" in suites and "patch 2/2: dma-buf: warn twice" in suites
    p2 = {tc.get("name"): tc for tc in suites["patch 2/2: dma-buf: warn twice"].iter("testcase")}
    assert p2["regressions"].find("failure") is not None
    assert p2["sparse"].find("failure") is not None
    assert p2["checkpatch"].find("skipped") is not None          # not run: never a pass
    p1 = {tc.get("name"): tc for tc in suites["patch 1/2: dma-buf: fix comments"].iter("testcase")}
    assert p1["regressions"].find("failure") is None
    cells = {tc.get("name"): tc for tc in suites["gate cells on baseline"].iter("testcase")}
    assert cells["selftests"].find("failure") is not None and cells["other"].find("failure") is None


def test_a_gate_summary_round_trips():
    s, _ = summary()
    again = GateSummary.from_json(s.to_json())
    assert again.to_json() == s.to_json() and not again.passed


def test_several_patch_files_make_one_series():
    folder = SERIES / "fence-signal-twice"
    files = sorted(str(p) for p in folder.glob("*.patch"))
    s = read_series_args(files)
    assert [p.index for p in s.patches] == [1, 2, 3] and s.source == "files"
    assert [p.subject for p in s.patches] == [p.subject for p in read_series_args([str(folder)]).patches]
    with pytest.raises(InputError, match="no series given"):
        read_series_args([])


def test_plan_cells_narrows_the_default_matrix(cfg):
    from harness.scenarios.spec import load_scenarios
    scenarios = load_scenarios(cfg)
    cells = plan_cells(cfg, "baseline", scenarios, None, ["dmabuf-selftests"])
    assert [c.id for c in cells] == ["baseline.debug.dmabuf-selftests"]
    with pytest.raises(InputError, match="no cell selected"):
        plan_cells(cfg, "baseline", scenarios, None, ["no-such-scenario-at-all"])


def test_find_gate_walks_up_from_a_cell(tmp_path):
    (tmp_path / "g" / "cells" / "c").mkdir(parents=True)
    (tmp_path / "g" / "gate.json").write_text("{}")
    assert find_gate(tmp_path / "g" / "cells" / "c") == (tmp_path / "g").resolve()
    assert find_gate(tmp_path) is None


def test_gate_markdown_lists_follow_on_reports_and_the_twin(tmp_path):
    """Follow-on reports are not compared, but the author sees them, by title."""
    s, head = summary()
    s.twin = "rcu-ops"
    s.cells.append(GateCell("debug", "drop", "baseline.debug.drop", "baseline+k.debug.drop", "unchanged", "", False,
                            base_outcome="report", head_outcome="report", follow_on_new=["sig-sleep"]))
    head["debug.drop"] = CellResult(
        "baseline+k", "debug", "drop", Outcome.REPORT, Expectation("clean"), False,
        reports=[ReportRef("BUG", "BUG: sleeping function called from invalid context in exit_signals",
                           "sig-sleep")])
    md = gate_markdown(s, head, tmp_path, "results/r1")
    assert "## Follow-on reports" in md
    assert "- debug/drop: with the series only: BUG: sleeping function called from invalid context in " \
           "exit_signals" in md
    assert "exactly the configured variant `rcu-ops`" in md
