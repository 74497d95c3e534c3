"""The KTAP/TAP parser of the kselftest suite, on output recorded from real guests
(tests/fixtures/kselftest/*.txt: what `ksft-run` printed on the console of a
debug build) and on small hand-written documents for the forms no guest here
prints (indented KTAP nesting, a missing plan, directives)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.suites import parser, parser_names
from harness.suites.kselftest import ktap, parse_kselftest, parse_kselftest_skip_ok, where_hung

FIX = Path(__file__).parent / "fixtures" / "kselftest"


def rec(name: str) -> str:
    return (FIX / name).read_text()


def by_name(parsed):
    return {t.name: t for t in parsed.subtests}


def test_parsers_are_registered():
    assert {"kselftest", "kselftest-skip-ok"} <= set(parser_names())
    assert parser("kselftest").parse is parse_kselftest


# -- recorded from real guests ------------------------------------------------

def test_sync_all_pass():
    p = parse_kselftest(rec("sync-pass.txt"), [])
    assert p.failure is None, p.failure
    names = [t.name for t in p.subtests]
    assert len(names) == 10
    assert names[0] == "sync_test/test_alloc_timeline"
    assert "sync_test/test_merge_stress_random_merge" in names
    assert all(t.result == "pass" for t in p.subtests)


def test_sync_functional_subset():
    p = parse_kselftest(rec("sync-functional-pass.txt"), [])
    assert p.failure is None, p.failure
    assert [t.name for t in p.subtests][-1] == "sync_functional/test_fence_multi_timeline_wait"
    assert len(p.subtests) == 7 and all(t.passed for t in p.subtests)


def test_udmabuf_skip_after_plan_is_a_visible_skip():
    """udmabuf exits KSFT_SKIP before its 6th test (no hugetlbfs): runner says `ok # SKIP`."""
    p = parse_kselftest(rec("udmabuf-skip6.txt"), [])
    assert p.failure is None, p.failure
    t = by_name(p)
    assert [t[f"udmabuf/test-{i}"].result for i in range(1, 6)] == ["pass"] * 5
    assert t["udmabuf/#6"].result == "skip"
    assert "KSFT_SKIP" in t["udmabuf/#6"].detail and "no-memfd" in t["udmabuf/#6"].detail
    assert sum(x.passed for x in p.subtests) == 5      # the skip is not a pass


def test_heaps_with_vgem():
    p = parse_kselftest(rec("heaps-vgem.txt"), [])
    assert p.failure is None, p.failure
    assert len(p.subtests) == 11
    assert all(t.result == "pass" for t in p.subtests), p.subtests
    # the same description twice in one document gets the number of the second
    assert len({t.name for t in p.subtests}) == 11


def test_heaps_without_vgem_skips_the_import_but_passes():
    p = parse_kselftest(rec("heaps-novgem.txt"), [])
    assert p.failure is None, p.failure
    skips = [t for t in p.subtests if t.result == "skip"]
    assert len(skips) == 1 and "vgem" in skips[0].name.lower()


def test_crash_mid_suite_fails_with_the_missing_subtests():
    """sync_test killed by SIGSEGV part-way: fewer results than planned, exit=139."""
    p = parse_kselftest(rec("sync-crash.txt"), [])
    assert p.failure and "planned 10 results, got" in p.failure
    missing = [t for t in p.subtests if t.name.startswith("sync_test/#")]
    assert missing and all(t.result == "fail" for t in missing)
    assert any(t.result == "pass" for t in p.subtests)       # what ran before the crash is kept


def test_bail_out_fails():
    p = parse_kselftest(rec("heaps-bailout.txt"), [])
    assert p.failure and "Bail out!" in p.failure


def test_all_skipped_fails_unless_accepted():
    text = rec("sync-skip-all.txt")
    p = parse_kselftest(text, [])
    assert p.failure and p.failure.startswith("all 1 subtests skipped")
    assert [t.result for t in p.subtests] == ["skip"]
    ok = parse_kselftest_skip_ok(text, [])
    assert ok.failure is None and [t.result for t in ok.subtests] == ["skip"]


def test_skip_ok_still_fails_a_failure():
    p = parse_kselftest_skip_ok(rec("sync-crash.txt"), [])
    assert p.failure and "planned 10 results" in p.failure


def test_where_hung_names_the_next_subtest():
    lines = rec("sync-pass.txt").splitlines()
    cut = next(i for i, l in enumerate(lines) if l.startswith("# ok 4 "))
    assert where_hung(lines[:cut + 1]) == "#5 of 10, after 'test_fence_one_timeline_wait'"


# -- forms no guest here prints ---------------------------------------------------

def test_indented_ktap_nesting_and_directives():
    text = """KTAP version 1
1..2
  KTAP version 1
  # Subtest: example
  1..4
  ok 1 t1
  not ok 2 t2 # TIMEOUT 30 seconds
  ok 3 t3 # SKIP no device
  ok 4 t4 # XFAIL known
not ok 1 example
ok 2 other
"""
    p = parse_kselftest(text, [])
    t = by_name(p)
    assert t["example/t1"].result == "pass"
    assert t["example/t2"].result == "fail" and "TIMEOUT" in t["example/t2"].detail
    assert t["example/t3"].result == "skip" and t["example/t3"].detail == "no device"
    assert t["example/t4"].result == "pass" and "XFAIL" in t["example/t4"].detail
    assert t["other"].result == "pass"
    assert p.failure.startswith("1 of 5 subtest(s) failed: example/t2")


def test_missing_plan_fails():
    p = parse_kselftest("TAP version 13\nok 1 a\nok 2 b\n", [])
    assert p.failure and "no plan" in p.failure
    assert [t.result for t in p.subtests] == ["pass", "pass"]


def test_nested_missing_plan_fails():
    text = "TAP version 13\n1..1\n# TAP version 13\n# ok 1 a\nok 1 selftests: x: y\n"
    p = parse_kselftest(text, [])
    assert p.failure and "y: no plan" in p.failure


def test_no_tap_output_fails():
    p = parse_kselftest("sh: sync_test: not found\n", [])
    assert p.failure and "no KTAP/TAP output" in p.failure


def test_parent_not_ok_without_failed_subtest_fails():
    text = "TAP version 13\n1..1\n# TAP version 13\n# 1..1\n# ok 1 a\nnot ok 1 selftests: x: y # exit=1\n"
    p = parse_kselftest(text, [])
    assert p.failure and "y: not ok (exit=1) although no subtest failed" in p.failure


def test_more_results_than_planned_fails():
    p = parse_kselftest("TAP version 13\n1..1\nok 1 a\nok 2 b\n", [])
    assert p.failure and "more than the plan" in p.failure


def test_kernel_lines_between_results_are_ignored():
    text = ("TAP version 13\n1..2\nok 1 a\n[   12.345678] not ok 5 from the kernel\n"
            "[   12.4] ------------[ cut here ]------------\nok 2 b\n")
    p = parse_kselftest(text, [])
    assert p.failure is None and [t.name for t in p.subtests] == ["a", "b"]


def test_nested_document_never_closed_fails():
    text = "TAP version 13\n1..1\n# selftests: sync: sync_test\n# TAP version 13\n# 1..2\n# ok 1 a\n# ok 2 b\n"
    p = parse_kselftest(text, [])
    assert p.failure and "never got their parent's result line" in p.failure


@pytest.mark.parametrize("line,expected", [
    ("ok 3 # SKIP Could not open vgem -1", ("Could not open vgem -1", "skip")),
    ("not ok 4 # error boom", ("boom", "fail")),
    ("ok 1 - dash style", ("dash style", "pass")),
    ("ok 2 drivers/dma-buf/udmabuf: [PASS,test-2]", ("test-2", "pass")),
    ("not ok 2 drivers/dma-buf/udmabuf: [FAIL,test-2]", ("test-2", "fail")),
])
def test_result_line_forms(line, expected):
    p = parse_kselftest(f"TAP version 13\n1..9\n{line}\n", [])
    t = p.subtests[0]
    assert (t.name, t.result) == expected


def test_two_documents_in_one_output():
    docs = ktap.parse("TAP version 13\n1..1\nok 1 a\nTAP version 13\n1..1\nnot ok 1 b\n")
    assert len(docs) == 2
    p = parse_kselftest("TAP version 13\n1..1\nok 1 a\nTAP version 13\n1..1\nnot ok 1 b\n", [])
    assert p.failure.startswith("1 of 2 subtest(s) failed: b")
