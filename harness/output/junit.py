"""JUnit XML of a run: a testcase per cell (classname variant.profile, name the
scenario), a testcase per subtest of the suites a cell ran (classname the cell,
name suite/subtest), and each build's canary rows."""

from __future__ import annotations

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.model import CellResult, Outcome


def cell_case(c: CellResult) -> TestCase:
    tc = TestCase(name=c.scenario, classname=f"{c.variant}.{c.profile}", elapsed_sec=c.duration_s,
                  stdout="\n".join(f"{s.name}: exit {s.exit_status} ({s.duration_s}s)" for s in c.steps))
    if c.outcome == Outcome.NA and c.passed:
        tc.add_skipped_info(c.detail or "not applicable")
    elif not c.passed:
        shown = c.unexpected_reports or c.reports
        if shown:
            r = shown[0]
            tc.add_failure_info(message=r.title, output=r.text + f"\n\nexpected: {c.expectation.describe()}\n"
                                f"{c.why}", failure_type=str(c.outcome))
        elif c.outcome == Outcome.ERROR:
            tc.add_error_info(message=c.detail or "harness error", error_type="error")
        else:
            tc.add_failure_info(message=c.why or str(c.outcome), output=c.detail,
                                failure_type=str(c.outcome))
    elif c.flaky:
        tc.stdout = (tc.stdout or "") + f"\nFLAKY: passed after {c.attempts} attempts"
    return tc


def subtest_cases(c: CellResult) -> list[TestCase]:
    """One testcase per subtest: a skip is a skip, never a pass."""
    out = []
    for step, t in c.subtests:
        name = t.name if "/" in t.name else f"{step}/{t.name}"
        tc = TestCase(name=name, classname=c.id)
        if t.skipped:
            tc.add_skipped_info(t.detail or "skipped")
        elif not t.passed:
            tc.add_failure_info(message=f"{t.name}: {t.result}", output=t.detail, failure_type="subtest")
        out.append(tc)
    return out


def junit_xml(cells: list[CellResult], builds: list[dict]) -> str:
    suites = []
    by_build: dict[str, list[TestCase]] = {}
    subtests: dict[str, list[TestCase]] = {}
    for c in cells:
        by_build.setdefault(f"{c.variant}.{c.profile}", []).append(cell_case(c))
        cases = subtest_cases(c)
        if cases:
            subtests.setdefault(c.id, []).extend(cases)
    for name, cases in sorted(by_build.items()):
        suites.append(TestSuite(name, cases))
    for name, cases in sorted(subtests.items()):
        suites.append(TestSuite(f"{name}.subtests", cases))
    for b in builds:
        cases = []
        for row in b.get("canary") or []:
            tc = TestCase(name=f"canary {row['class']}", classname=f"{b['variant']}.{b['profile']}.canary")
            if not row.get("seen"):
                tc.add_failure_info(message=f"kernel cannot report {row['class']}",
                                    output=row.get("detail", ""))
            cases.append(tc)
        if cases:
            suites.append(TestSuite(f"canary.{b['variant']}.{b['profile']}", cases))
    return to_xml_report_string(suites)
