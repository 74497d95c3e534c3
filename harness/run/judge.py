"""The one judge: did a cell give the outcome its scenario expects on this variant?

Everything that says "passed" or "expected" reads it from here: the cell's
`passed` and `why`, and each kernel report's `expected` flag (shown on the
page, in JUnit and in summary.json). A report is expected only when the
expectation is a report and it matches every field the expectation names:
kind, title regex and step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.scenarios.spec import Expectation


# An `error` outcome is the harness's own failure (QEMU could not start, a
# stage crashed: exit status 3) unless its detail puts it on the kernel under
# test: its build failed, or it cannot report what the expectation needs
# (those fail the gate like any unexpected outcome: exit status 1).
KERNEL_AT_FAULT = ("build failed", "kernel cannot")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    why: str
    expected: tuple[bool, ...] = ()     # per report, in the order given
    harness_error: bool = False         # the harness failed, not the kernel: exit status 3


def is_harness_error(outcome: str, detail: str) -> bool:
    return outcome == "error" and not (detail or "").startswith(KERNEL_AT_FAULT)


def report_matches(expect: Expectation, report) -> bool:
    """Is this report (anything with kind, title, step) the one the expectation names?"""
    return (expect.outcome == "report"
            and (not expect.kind or report.kind == expect.kind)
            and (not expect.title or bool(re.search(expect.title, report.title or "")))
            and (not expect.step or report.step == expect.step))


def judge(outcome: str, detail: str, reports: list, expect: Expectation,
          missing_features: tuple[str, ...] = ()) -> Verdict:
    """The verdict on a cell's outcome (one of harness.model's outcomes).

    `missing_features`: for an `n/a` outcome, the features the build lacked.
    An `n/a` passes only where the expectation for the variant is `n/a`: a
    build that lost a feature its variant should have (a series that renamed
    a flag, a probe that broke) must not turn its cells green.
    """
    expected = tuple(report_matches(expect, r) for r in reports)
    if outcome == "error":
        return Verdict(False, detail, expected, harness_error=is_harness_error(outcome, detail))
    if outcome == "n/a":
        if expect.outcome == "n/a":
            return Verdict(True, detail, expected)
        lacks = ", ".join(missing_features) or detail or "a required feature"
        return Verdict(False, f"feature {lacks} missing on this build, but {expect.describe()} "
                              f"is expected on this variant", expected)
    if expect.outcome == "report":
        if outcome != "report":
            return Verdict(False, f"expected {expect.describe()}, got {outcome}"
                           + (f": {detail}" if detail else ""), expected)
        for r, ok in zip(reports, expected):
            if ok:
                return Verdict(True, f"expected report seen: {r.title}", expected)
        titles = "; ".join(f"{r.kind}: {r.title} (step {r.step})" for r in reports)
        return Verdict(False, f"expected {expect.describe()}, got other report(s): {titles}", expected)
    if outcome == expect.outcome:
        return Verdict(True, "", expected)
    if outcome == "report":
        return Verdict(False, "unexpected report: " + "; ".join(r.title for r in reports), expected)
    return Verdict(False, f"expected {expect.outcome}, got {outcome}" + (f": {detail}" if detail else ""),
                   expected)
