"""Matrix expansion, selection, sharding, gating, JUnit and merge, without guests."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.run.matrix import Cell, Matrix, select, shard, taint_is_bad
from harness.output.results import RunResults
from harness.run.judge import judge as judge_cell
from harness.model.compare import compare as compare_cells
from harness.model import CellResult
from harness.output.results import load_cells


def compare(new: dict, old: dict) -> dict:
    return vars(compare_cells(load_cells(new), load_cells(old)))
from harness.scenarios.execute import ScenarioResult
from harness.scenarios.spec import Expectation


def judge(result, expect):
    v = judge_cell(result.outcome, result.detail, result.reports, expect)
    return v.passed, v.why


class FakeReport:
    def __init__(self, kind, title, step=None):
        self.kind, self.title, self.step = kind, title, step


def test_expansion_with_include_exclude():
    m = Matrix(["a", "b"], ["debug"], ["s1", "s2"], include=[{"variant": "a", "profile": "fast",
                                                              "scenario": "s1"}],
               exclude=[{"variant": "b", "scenario": "s2"}], all_variants=["a", "b"],
               all_profiles=["debug", "fast"], all_scenarios=["s1", "s2"])
    ids = [c.id for c in m.cells()]
    assert ids == ["a.debug.s1", "a.debug.s2", "b.debug.s1", "a.fast.s1"]


def test_select_by_glob_substring_tag_and_not():
    cells = [Cell("a", "debug", "stash-x"), Cell("b", "debug", "vgem-y")]

    class S:
        def __init__(self, tags):
            self.tags = tags
    scen = {"stash-x": S(("stash",)), "vgem-y": S(("vgem",))}
    assert select(cells, ["a.*"], scen) == cells[:1]
    assert select(cells, ["vgem"], scen) == cells[1:]
    assert select(cells, ["not vgem"], scen) == cells[:1]
    assert select(cells, None, scen) == cells


def test_shards_partition_cells():
    cells = [Cell(v, "p", s) for v in "abc" for s in ("x", "y", "z")]
    parts = [shard(cells, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(c.id for p in parts for c in p) == sorted(c.id for c in cells)
    assert not set(parts[0]) & set(parts[1])
    from harness.core.errors import InputError
    with pytest.raises(InputError):
        shard(cells, "4/3")


def test_taint_flags():
    assert taint_is_bad(4096) == []            # O: out-of-tree module, expected
    assert "W" in taint_is_bad(512)
    assert "D" in taint_is_bad(128)


def res(outcome, reports=(), detail=""):
    r = ScenarioResult("s", outcome, detail, [])
    r.reports = list(reports)
    return r


def test_judge_report_expectations():
    e = Expectation("report", kind="PAGE_FAULT", title="dma_fence_release", step="drop")
    ok = res("report", [FakeReport("PAGE_FAULT", "BUG: unable to handle page fault in dma_fence_release", "drop")])
    assert judge(ok, e)[0]
    wrong_step = res("report", [FakeReport("PAGE_FAULT", "BUG: unable to handle page fault in dma_fence_release", "x")])
    assert not judge(wrong_step, e)[0]
    assert not judge(res("clean"), e)[0]
    assert judge(res("clean"), Expectation("clean"))[0]
    passed, why = judge(ok, Expectation("clean"))
    assert not passed and "unexpected report" in why
    assert not judge(res("hang", detail="step x"), Expectation("clean"))[0]


def make_cell(cid, outcome, passed, reports=(), flaky=False):
    v, p, s = cid.split(".")
    return {"id": cid, "variant": v, "profile": p, "scenario": s, "outcome": outcome,
            "expected": "clean", "passed": passed, "flaky": flaky, "reports": list(reports),
            "duration_s": 1.5, "steps": [], "why": "" if passed else "unexpected report", "detail": ""}


class RunResults(RunResults):
    """The results writer fed the cell dicts these tests write by hand."""

    def add_cell(self, cell, files=None):
        super().add_cell(CellResult.from_json(cell) if isinstance(cell, dict) else cell, files)


REPORT = {"kind": "PAGE_FAULT", "title": "BUG: unable to handle page fault in dma_fence_release",
          "frame": "dma_fence_release", "corrupted": False, "module": None, "last_unloaded": "issuer",
          "step": "drop", "signature": "sig1", "start_line": 3, "end_line": 30,
          "text": "BUG: unable to handle page fault for address: ffffffffc0201040\n..."}


def test_results_files_junit_and_markdown(tmp_path):
    rr = RunResults(tmp_path, "run1")
    rr.add_cell(make_cell("base.debug.s1", "report", False, [REPORT]), {"console.log": "x\n"})
    rr.add_cell(make_cell("base.debug.s2", "clean", True))
    rr.add_cell(make_cell("new.debug.s1", "n/a", True))
    partial = json.loads((tmp_path / "run1/summary.json").read_text())
    assert partial["complete"] is False and len(partial["cells"]) == 3
    s = rr.write_summary(complete=True, exit_status=1)
    assert (tmp_path / "latest").resolve() == (tmp_path / "run1").resolve()
    for c in s["cells"]:
        for key in ("id", "variant", "profile", "scenario", "outcome", "expected", "passed", "flaky",
                    "reports", "duration_s"):
            assert key in c
    root = ET.fromstring((tmp_path / "run1/junit.xml").read_text())
    cases = {tc.get("classname") + "." + tc.get("name"): tc for tc in root.iter("testcase")}
    fail = cases["base.debug.s1"].find("failure")
    assert fail is not None and fail.get("message") == REPORT["title"]
    assert "page fault for address" in fail.text
    assert cases["new.debug.s1"].find("skipped") is not None
    assert cases["base.debug.s2"].find("failure") is None
    md = (tmp_path / "run1/summary.md").read_text()
    assert "| s1 |" in md and "REPORT" in md


def test_compare_with_baseline():
    old = {"run_id": "a", "cells": [make_cell("v.p.s1", "clean", True), make_cell("v.p.s2", "report", False, [REPORT])]}
    new = {"run_id": "b", "cells": [make_cell("v.p.s1", "report", False, [dict(REPORT, signature="sig2")]),
                                    make_cell("v.p.s2", "clean", True)]}
    cmp = compare(new, old)
    assert cmp["new_failures"] == ["v.p.s1"] and cmp["fixed"] == ["v.p.s2"]
    assert cmp["new_signatures"] == ["v.p.s1"]


def test_merge_shards(tmp_path):
    from harness.cli import main
    a, b = RunResults(tmp_path / "a", "r"), RunResults(tmp_path / "b", "r")
    a.add_cell(make_cell("v.p.s1", "clean", True)); a.write_summary(True, 0)
    b.add_cell(make_cell("v.p.s2", "report", False, [REPORT])); b.write_summary(True, 1)
    status = main(["merge", str(tmp_path / "a/r"), str(tmp_path / "b/r"), "--results", str(tmp_path / "m"),
                   "--junit", str(tmp_path / "j.xml")])
    assert status == 1
    merged = json.loads((tmp_path / "m/latest/summary.json").read_text())
    assert sorted(c["id"] for c in merged["cells"]) == ["v.p.s1", "v.p.s2"]
    assert ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    # the same cell in two shards is an input error
    assert main(["merge", str(tmp_path / "a/r"), str(tmp_path / "a/r"), "--results", str(tmp_path / "m2")]) == 2


def test_bisect_finds_first_changing_prefix():
    from harness.run.bisect import first_change
    calls = []

    def outcome_at(change):
        def f(k):
            calls.append(k)
            return "report" if k < change else "clean"
        return f
    for change in range(1, 12):
        calls.clear()
        assert first_change(11, outcome_at(change)) == change
        assert len(set(calls)) <= 6          # log2(11) + the two ends
    assert first_change(5, lambda k: "report") is None


def test_matrix_patterns_expand_to_configured_variants_only(cfg):
    """A gate or a bisection registers derived variants in the loaded config: `*`
    in a matrix must still mean the variants configs/harness.yaml declares."""
    import dataclasses
    from harness.core.config import load_config
    from harness.run.matrix import load_matrix
    own = load_config(cfg.file)
    before = {c.variant for c in load_matrix(own).cells()}
    base = own.variants["baseline"]
    own.variants["baseline@1"] = dataclasses.replace(base, name="baseline@1", patch_limit=1)
    own.variants["baseline+abc"] = dataclasses.replace(base, name="baseline+abc", stacked_on="baseline")
    assert {c.variant for c in load_matrix(own).cells()} == before
