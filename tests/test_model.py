"""The typed cell results (harness.model) against what the harness wrote before them.

tests/fixtures/summary/before-*.{json,xml,md} were written by the dict-based
results writer the typed one replaced, from the 72 cells of a real `make run`
(step outputs and report texts cut short to keep the fixture small). The
typed writer must give the same summary.json, the same markdown and the same
JUnit verdicts for the same cells.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.model import CellResult, Expectation, Outcome, ReportRef
from harness.output.html import Page, classify
from harness.output.results import RunResults
from harness.run.judge import judge

FIX = Path(__file__).parent / "fixtures" / "summary"
VOLATILE = {"run_id", "started", "finished"}


def before() -> dict:
    return json.loads((FIX / "before-summary.json").read_text())


def test_every_recorded_cell_round_trips():
    for c in before()["cells"]:
        assert CellResult.from_json(c).to_json() == c, c["id"]


def test_typed_writer_gives_the_same_summary(tmp_path):
    old = before()
    rr = RunResults(tmp_path, "after", header={k: old[k] for k in ("inputs", "command", "matrix", "shard")})
    rr.set_builds(old["builds"])
    for c in old["cells"]:
        cell = CellResult.from_json(c)
        cell.dir = None                      # the writer sets it, as it did before
        rr.add_cell(cell)
    new = rr.write_summary(complete=True, exit_status=0)
    new = json.loads((tmp_path / "after" / "summary.json").read_text())
    assert list(new) == list(old)           # same keys, same order
    for k in set(old) - VOLATILE - {"cells"}:
        assert new[k] == old[k], k
    assert [c["id"] for c in new["cells"]] == [c["id"] for c in old["cells"]]
    for a, b in zip(new["cells"], old["cells"]):
        assert a == b, a["id"]
    md_old = (FIX / "before-summary.md").read_text().split("\n", 1)[1]
    md_new = (tmp_path / "after" / "summary.md").read_text().split("\n", 1)[1]
    assert md_new == md_old

    def verdicts(path):
        out = {}
        for tc in ET.parse(path).getroot().iter("testcase"):
            state = "failure" if tc.find("failure") is not None else "error" if tc.find("error") is not None \
                else "skipped" if tc.find("skipped") is not None else "pass"
            out[(tc.get("classname"), tc.get("name"))] = state
        return out
    old_v, new_v = verdicts(FIX / "before-junit.xml"), verdicts(tmp_path / "after" / "junit.xml")
    assert {k: new_v.get(k) for k in old_v} == old_v
    # what is new in the JUnit file: one testcase per dma-buf selftest subtest
    extra = set(new_v) - set(old_v)
    assert extra and all("/" in name for _, name in extra)


class Found:
    """A detector report, as the judge sees it."""

    def __init__(self, kind, title, step):
        self.kind, self.title, self.step = kind, title, step


def test_a_report_in_the_wrong_step_is_not_expected_anywhere(tmp_path):
    """The expectation names kind, title and step: a matching report in another step
    fails the cell, and must show as unexpected in summary.json and on the page (it
    used to show as expected, and the page said "failed without a report")."""
    expect = Expectation("report", kind="PAGE_FAULT", title="in dma_fence_release", step="drop")
    found = [Found("PAGE_FAULT", "BUG: unable to handle page fault in dma_fence_release", "unload")]
    v = judge("report", "", found, expect)
    assert not v.passed and v.expected == (False,)
    cell = CellResult("baseline", "debug", "stash", Outcome.REPORT, expect, v.passed, v.why,
                      reports=[ReportRef(kind="PAGE_FAULT", title=found[0].title, signature="s",
                                         step="unload", expected=v.expected[0])])
    rr = RunResults(tmp_path, "r")
    rr.add_cell(cell)
    summary = rr.write_summary(complete=True, exit_status=1)
    (rep,) = summary["cells"][0]["reports"]
    assert rep["expected"] is False and summary["cells"][0]["passed"] is False
    assert classify(CellResult.from_json(summary["cells"][0])) == "crash"
    page = Page(rr.dir, summary, None)
    assert page.cat[cell.id] == "crash"
    assert page.detail(page.cells[0], 100)["reports"][0]["expected"] is False
    # the same report in the expected step is the expected one
    ok = judge("report", "", [Found("PAGE_FAULT", found[0].title, "drop")], expect)
    assert ok.passed and ok.expected == (True,)


def test_an_unknown_or_missing_outcome_never_reads_as_a_pass():
    c = CellResult.from_json({"id": "a.b.c", "outcome": "weird-new-outcome", "passed": False})
    assert c.outcome == Outcome.ERROR and not c.passed
    c = CellResult.from_json({"id": "a.b.c"})
    assert c.outcome == Outcome.ERROR and not c.passed and c.reports == [] and c.steps == []


def test_an_na_the_variant_does_not_expect_fails():
    v = judge("n/a", "kernel lacks inline lock", [], Expectation("clean"), ("inline_lock",))
    assert not v.passed and "inline_lock missing" in v.why
    assert judge("n/a", "kernel lacks inline lock", [], Expectation("n/a"), ("inline_lock",)).passed
