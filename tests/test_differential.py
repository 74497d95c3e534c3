"""The differential classification of a gate cell (base vs base+series): the
whole table, flaky cells, and written expectations adding to the comparison."""

from __future__ import annotations

import pytest

from harness.run.differential import VERDICTS, CellDiff, classify
from harness.scenarios.spec import Expectation

UAF = {"kind": "KASAN", "title": "KASAN: slab-use-after-free Read in dma_fence_release",
       "signature": "KASAN:slab-use-after-free:dma_fence_release", "step": "drop"}
FAULT = {"kind": "PAGE_FAULT", "title": "unable to handle page fault in dma_fence_release",
         "signature": "PAGE_FAULT:dma_fence_release", "step": "drop"}
WARN = {"kind": "WARNING", "title": "WARNING in dma_fence_signal_timestamp_locked",
        "signature": "WARNING:dma_fence_signal_timestamp_locked", "step": "selftests"}


def cell(outcome: str, *reports: dict, flaky: bool = False, first: str | None = None,
         passed: bool = True, detail: str = "") -> dict:
    c = {"outcome": outcome, "reports": list(reports), "passed": passed, "flaky": flaky, "detail": detail}
    if first:
        c["first_attempt"] = {"outcome": first, "why": "first attempt"}
    return c


# (base, series, verdict): every row of the table in the module doc
TABLE = [
    # same outcome, same signatures
    (cell("clean"), cell("clean"), "unchanged"),
    (cell("report", FAULT), cell("report", FAULT), "unchanged"),
    (cell("hang"), cell("hang"), "unchanged"),
    (cell("n/a"), cell("n/a"), "unchanged"),
    (cell("error", detail="build failed"), cell("error", detail="build failed"), "unchanged"),
    # clean base: anything else is a regression
    (cell("clean"), cell("report", WARN), "regression"),
    (cell("clean"), cell("hang"), "regression"),
    (cell("clean"), cell("panic"), "regression"),
    (cell("clean"), cell("check-failed"), "regression"),
    (cell("clean"), cell("error", detail="build failed"), "regression"),
    (cell("clean"), cell("no-boot"), "regression"),
    # a new signature on top of the base's crash
    (cell("report", FAULT), cell("report", FAULT, WARN), "regression"),
    (cell("check-failed"), cell("report", WARN), "regression"),
    # the base's crash gone
    (cell("report", FAULT), cell("clean"), "fixed"),
    (cell("hang"), cell("clean"), "fixed"),
    (cell("report", FAULT, WARN), cell("report", FAULT), "fixed"),
    # a different crash in the same cell
    (cell("report", FAULT), cell("report", UAF), "changed"),
    (cell("report", FAULT), cell("hang", FAULT), "changed"),
    (cell("check-failed"), cell("hang"), "changed"),
    (cell("report", FAULT, WARN), cell("hang", FAULT), "changed"),
    # a base cell the harness could not run is no baseline
    (cell("error", detail="qemu failed"), cell("clean"), "changed"),
    (cell("error", detail="qemu failed"), cell("hang"), "changed"),
    (cell("error", detail="qemu failed"), cell("report", WARN), "regression"),
    # applicability
    (cell("n/a"), cell("clean"), "changed"),
    (cell("n/a"), cell("report", UAF), "regression"),
    (cell("clean"), cell("n/a", detail="kernel lacks inline lock"), "changed"),
]


@pytest.mark.parametrize("base,head,verdict", TABLE)
def test_classification_table(base, head, verdict):
    d = classify(base, head)
    assert d.verdict == verdict, d.why
    assert d.verdict in VERDICTS
    assert d.fails_gate == (verdict == "regression")
    assert not d.flaky and d.expectation is None


def test_every_verdict_is_in_the_table():
    assert {v for _, _, v in TABLE} == set(VERDICTS)


def test_signatures_and_titles_are_reported():
    d = classify(cell("report", FAULT), cell("report", UAF))
    assert d.new_signatures == (UAF["signature"],) and d.gone_signatures == (FAULT["signature"],)
    assert UAF["title"] in d.why and FAULT["title"] in d.why
    d = classify(cell("clean"), cell("report", WARN))
    assert WARN["title"] in d.why and d.to_json()["fails_gate"] is True


def test_signature_not_title_decides():
    """Two reports titled alike but with different signatures are different crashes."""
    other = dict(FAULT, signature="PAGE_FAULT:dma_fence_release+other")
    assert classify(cell("report", FAULT), cell("report", other)).verdict == "changed"
    same_sig = dict(FAULT, title="a reworded title")
    assert classify(cell("report", FAULT), cell("report", same_sig)).verdict == "unchanged"


def test_flaky_series_cell_is_an_intermittent_regression_on_a_clean_base():
    d = classify(cell("clean"), cell("clean", flaky=True, first="report"))
    assert d.verdict == "regression" and d.flaky and d.fails_gate
    assert "intermittent" in d.why and "flaky" in d.why


def test_flaky_cells_are_marked_never_silently_passed():
    d = classify(cell("clean", flaky=True, first="hang"), cell("clean"))
    assert d.verdict == "unchanged" and d.flaky and "flaky on the base" in d.why
    d = classify(cell("report", FAULT), cell("report", FAULT, flaky=True, first="hang"))
    assert d.verdict == "unchanged" and d.flaky and "series" in d.why
    d = classify(cell("clean", flaky=True, first="report"), cell("report", WARN))
    assert d.verdict == "regression" and d.flaky


EXPECT_FAULT = Expectation("report", kind="PAGE_FAULT", title="dma_fence_release", step="drop")


def test_written_expectation_met_adds_nothing():
    d = classify(cell("report", FAULT), cell("report", FAULT), EXPECT_FAULT)
    assert d.verdict == "unchanged" and d.expectation == "met" and not d.fails_gate


def test_written_expectation_broken_by_the_series_fails_even_when_changed():
    d = classify(cell("report", FAULT), cell("report", UAF), EXPECT_FAULT)
    assert d.verdict == "changed" and d.expectation == "violated" and d.fails_gate
    assert "expected report PAGE_FAULT" in d.expectation_why


def test_written_expectation_adds_to_unchanged():
    """Same signature but at another step: the comparison sees no change, the
    written expectation (step: drop) does."""
    moved = dict(FAULT, step="names")
    d = classify(cell("report", FAULT), cell("report", moved), EXPECT_FAULT)
    assert d.verdict == "unchanged" and d.expectation == "violated" and d.fails_gate


def test_fixing_an_expected_crash_is_listed_not_failed():
    d = classify(cell("report", FAULT), cell("clean"), EXPECT_FAULT)
    assert d.verdict == "fixed" and d.expectation == "violated" and not d.fails_gate


def test_expectation_the_base_already_broke_does_not_fail_the_series():
    d = classify(cell("hang"), cell("hang"), EXPECT_FAULT)
    assert d.expectation == "violated-on-base-too" and not d.fails_gate


def test_expectation_does_not_hide_a_regression():
    d = classify(cell("clean"), cell("report", WARN), Expectation("report", kind="WARNING"))
    assert d.verdict == "regression" and d.expectation == "met" and d.fails_gate


def test_scenario_becoming_applicable_is_listed_not_failed():
    """inline-lock stacked on rcu-ops: the inline scenarios (n/a on rcu-ops) now run clean."""
    d = classify(cell("n/a"), cell("clean"), Expectation("n/a"))
    assert d.verdict == "changed" and d.expectation == "violated" and not d.fails_gate
    assert isinstance(d, CellDiff)


def test_scenario_becoming_applicable_and_crashing_fails():
    d = classify(cell("n/a"), cell("report", UAF), Expectation("n/a"))
    assert d.verdict == "regression" and d.fails_gate


def test_losing_a_feature_breaks_the_written_expectation():
    """A series that renames the inline-lock flag: the scenario goes n/a where
    the contract expects it to run."""
    d = classify(cell("clean"), cell("n/a", detail="kernel lacks inline lock"), Expectation("clean"))
    assert d.verdict == "changed" and d.expectation == "violated" and d.fails_gate


def test_typed_cells_and_missing_signatures():
    class Typed:     # a typed cell result: anything whose to_json() is the summary.json cell
        def __init__(self, d):
            self.d = d

        def to_json(self):
            return self.d
    nosig = {"kind": "WARNING", "title": "WARNING in f", "signature": ""}
    assert classify(Typed(cell("clean")), Typed(cell("report", nosig))).new_signatures == ("WARNING|WARNING in f",)
    assert classify(cell("report", nosig), cell("report", nosig)).verdict == "unchanged"


# A report printed after the kernel had oopsed once (taint D), as the shipped
# rcu-ops series gives on ops-wait-extern-static-drop: the same page fault as
# 6.12, now inside an RCU read-side section, so the dying task also trips
# might_sleep() on its way out.
FAULT_G = dict(FAULT, tainted="G O")
SLEEP_D = {"kind": "BUG", "title": "BUG: sleeping function called from invalid context in exit_signals",
           "signature": "BUG:sleeping-function:exit_signals", "step": "drop", "tainted": "G D O"}
UAF_D = dict(UAF, tainted="G D O")


def test_follow_on_report_after_the_oops_is_listed_not_compared():
    d = classify(cell("report", FAULT_G), cell("report", FAULT_G, SLEEP_D))
    assert d.verdict == "unchanged" and not d.fails_gate
    assert d.new_signatures == () and d.follow_on_new == (SLEEP_D["signature"],)
    assert "exit_signals" in d.why and "follow-on" in d.why
    assert d.to_json()["follow_on_new"] == [SLEEP_D["signature"]]


def test_follow_on_gone_is_not_a_fix():
    d = classify(cell("report", FAULT_G, SLEEP_D), cell("report", FAULT_G))
    assert d.verdict == "unchanged" and d.gone_signatures == ()


def test_follow_on_does_not_hide_a_new_first_oops():
    """The series changes the first oops: compared as ever, follow-on or not."""
    d = classify(cell("report", FAULT_G), cell("report", dict(UAF, tainted="G O"), SLEEP_D))
    assert d.verdict == "changed" and d.new_signatures == (UAF["signature"],)
    assert classify(cell("clean"), cell("report", FAULT_G, SLEEP_D)).fails_gate


def test_reports_all_tainted_d_are_all_compared():
    """Without an untainted report the first oops's head was lost: nothing is follow-on."""
    d = classify(cell("report", FAULT_G), cell("report", FAULT_G), None)
    assert d.verdict == "unchanged"
    d = classify(cell("report", UAF_D), cell("report", UAF_D, SLEEP_D))
    assert d.verdict == "regression" and d.new_signatures == (SLEEP_D["signature"],) and d.fails_gate


def test_a_warning_is_no_oops():
    """Taint W (a WARNING) is not D: a report after a warning is compared."""
    warn = dict(WARN, tainted="G O")
    d = classify(cell("report", warn), cell("report", warn, dict(UAF, tainted="G W O")))
    assert d.verdict == "regression" and d.new_signatures == (UAF["signature"],)


def test_predicted_verdicts_from_written_expectations():
    from harness.run.differential import predicted_verdict
    fault = Expectation("report", "PAGE_FAULT", "unable to handle page fault in dma_fence_release", "drop")
    names = Expectation("report", "PAGE_FAULT", "unable to handle page fault in dma_fence_describe", "names")
    assert predicted_verdict(fault, fault) == "unchanged"
    assert predicted_verdict(fault, Expectation("clean")) == "fixed"
    assert predicted_verdict(Expectation("clean"), fault) == "regression"
    assert predicted_verdict(Expectation("n/a"), Expectation("clean")) == "changed"
    assert predicted_verdict(Expectation("n/a"), fault) == "regression"
    assert predicted_verdict(names, fault) == "changed"
    assert predicted_verdict(Expectation("n/a"), Expectation("n/a")) == "unchanged"
    # written for the series' configured twin: a crash it names is changed, a clean never covers one
    assert predicted_verdict(Expectation("n/a"), fault, twin=True) == "changed"
    assert predicted_verdict(Expectation("clean"), fault, twin=True) == "changed"
    assert predicted_verdict(fault, Expectation("clean"), twin=True) == "fixed"


# The series is exactly a configured variant's (inline-lock on rcu-ops): the
# scenarios' expectations written for it are its contract.
FAULT_INLINE = Expectation("report", "PAGE_FAULT", "unable to handle page fault in dma_fence_release", "drop")


def test_a_crash_the_twin_variant_writes_is_changed_not_failed():
    d = classify(cell("n/a"), cell("report", FAULT_G, SLEEP_D), Expectation("n/a"), FAULT_INLINE, "inline-lock")
    assert d.verdict == "changed" and not d.fails_gate and d.twin_met
    assert "as written for inline-lock" in d.why


def test_the_twin_contract_does_not_cover_an_unnamed_crash():
    # the expected fault plus a new KASAN report the contract does not name: still a regression
    d = classify(cell("n/a"), cell("report", FAULT_G, dict(UAF, tainted="G O")), Expectation("n/a"),
                 FAULT_INLINE, "inline-lock")
    assert d.verdict == "regression" and d.fails_gate
    # another crash than the one written
    d = classify(cell("clean"), cell("report", dict(UAF, tainted="G O")), Expectation("clean"),
                 FAULT_INLINE, "inline-lock")
    assert d.verdict == "regression" and d.fails_gate and not d.twin_met
    # the contract writes clean: a crash is a regression
    d = classify(cell("clean"), cell("report", FAULT_G), Expectation("clean"), Expectation("clean"), "inline-lock")
    assert d.verdict == "regression" and d.fails_gate


def test_the_twin_contract_does_not_cover_an_intermittent_regression():
    d = classify(cell("clean"), cell("report", FAULT_G, flaky=True, first="report"), None, FAULT_INLINE, "x")
    assert d.verdict == "regression" and d.fails_gate
    d = classify(cell("clean"), cell("clean", flaky=True, first="report"), None, Expectation("clean"), "x")
    assert d.verdict == "regression" and d.fails_gate


def test_without_a_twin_the_same_crash_fails():
    d = classify(cell("n/a"), cell("report", FAULT_G, SLEEP_D), Expectation("n/a"))
    assert d.verdict == "regression" and d.fails_gate and not d.twin_met
