"""From a KTAP tree to per-subtest results and the reason a step fails.

The rules (the gate must never pass on output it did not fully understand):

* every leaf result is a Subtest: `pass`, `fail` or `skip` (with the skip
  reason or the failure's diagnostics as detail); XFAIL is a pass (the test
  expected that failure), TIMEOUT and ERROR are failures;
* the step fails when a subtest failed, when a document has no plan, when it
  has fewer results than planned (a crash mid-suite: each missing result is
  a failed subtest named by its number), on `Bail out!`, when a parent test
  failed although none of its subtests did (kselftest's runner reports the
  program's exit status that way), when a nested document never got its
  parent's result line, and when there is no TAP output at all;
* skips are visible and never passes: a step whose every subtest skipped
  fails with "all N subtests skipped" unless the parser was asked to accept
  that (`kselftest-skip-ok`). Some subtests skipped among passes is fine.
* a program that exits with KSFT_SKIP (4) after fewer results than planned
  (udmabuf without hugetlbfs) shows in runner.sh's output as the parent
  `ok ... # SKIP`: its missing results are skips, not failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.suites.base import ParsedStep, Subtest
from harness.suites.kselftest.ktap import Document, Result

# kselftest's runner: "selftests: <collection>: <program>"
_RUNNER_NAME = re.compile(r"^selftests: (.+): (\S+)$")
# tests that put their verdict in the description (udmabuf: "prefix: [PASS,test-1]"):
# the name is what stays the same whether it passed or not
_VERDICT_IN_NAME = re.compile(r"^(?:\S+: )?\[(?:PASS|FAIL|SKIP)\s*,\s*([^\]]+)\]$", re.IGNORECASE)
_RUN_MARK = re.compile(r"^\[RUN\]\s*")
_NOTES_KEPT = 3
# kselftest's own closing counts say nothing about why results are missing
_SUMMARY_NOTE = re.compile(r"^(Totals: |Planned tests != run tests)")


def subtest_name(result: Result) -> str:
    """A stable name for a result: its description, cleaned of verdicts and markers."""
    desc = " ".join(result.description.split())
    m = _RUNNER_NAME.match(desc)
    if m:
        return m.group(2)
    m = _VERDICT_IN_NAME.match(desc)
    if m:
        return m.group(1).strip()
    desc = _RUN_MARK.sub("", desc)
    if desc:
        return desc
    # kselftest's ksft_test_result_skip() prints "ok N # SKIP <message>"
    if result.diagnostic:
        return " ".join(result.diagnostic.split())
    return f"#{result.number}"


def leaf_result(r: Result) -> tuple[str, str]:
    """(result, detail) of a leaf result line."""
    notes = "; ".join(r.notes[-_NOTES_KEPT:])
    if r.directive == "SKIP":
        return "skip", r.diagnostic or notes
    if r.directive == "XFAIL":
        return ("pass", f"XFAIL {r.diagnostic}".strip()) if r.ok else ("fail", f"XFAIL {r.diagnostic}".strip())
    if r.directive in ("TIMEOUT", "ERROR"):
        return "fail", " ".join(x for x in (r.directive, r.diagnostic, notes) if x)
    if r.ok:
        return "pass", r.diagnostic
    return "fail", "; ".join(x for x in (r.diagnostic, notes) if x)


@dataclass
class _Walk:
    subtests: list[Subtest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _where(path: list[str]) -> str:
    return "/".join(path) if path else "top level"


def _walk(doc: Document, path: list[str], out: _Walk, parent_skipped: bool = False) -> None:
    seen: dict[str, int] = {}
    if doc.plan is None:
        out.problems.append(f"{_where(path)}: no plan (1..N) in the TAP output (line {doc.line})")
    if doc.plan == 0 or (doc.plan_directive.upper().startswith("SKIP") and not doc.results):
        reason = doc.plan_directive[4:].strip() if doc.plan_directive.upper().startswith("SKIP") else ""
        out.subtests.append(Subtest(_where(path) if path else "(all)", "skip",
                                    reason or "; ".join(doc.last_notes(_NOTES_KEPT))))
    for r in doc.results:
        name = subtest_name(r)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} (#{r.number})"
        here = path + [name]
        if r.children is not None:
            before = len(out.subtests)
            _walk(r.children, here, out, parent_skipped=r.directive == "SKIP")
            failed_below = any(t.result == "fail" for t in out.subtests[before:])
            if not r.ok and r.directive != "SKIP" and not failed_below:
                why = " ".join(x for x in (r.directive, r.diagnostic) if x)
                out.problems.append(f"{'/'.join(here)}: not ok{f' ({why})' if why else ''} "
                                    "although no subtest failed")
            continue
        result, detail = leaf_result(r)
        out.subtests.append(Subtest("/".join(here), result, detail))
    if doc.plan is not None and len(doc.results) < doc.plan:
        got = len(doc.results)
        last = "; ".join([n for n in doc.last_notes(_NOTES_KEPT + 2) if not _SUMMARY_NOTE.match(n)]
                         [-_NOTES_KEPT:])
        if doc.bailout is not None:
            last = f"Bail out! {doc.bailout}".strip()
        if parent_skipped:
            detail = f"not run: the program exited with KSFT_SKIP after {got} of {doc.plan} results"
            out.subtests.extend(Subtest("/".join(path + [f"#{n}"]), "skip", f"{detail}; {last}" if last else detail)
                                for n in range(got + 1, doc.plan + 1))
        else:
            detail = f"no result: planned {doc.plan}, got {got} (crashed, hung or exited early)"
            out.subtests.extend(Subtest("/".join(path + [f"#{n}"]), "fail", f"{detail}; {last}" if last else detail)
                                for n in range(got + 1, doc.plan + 1))
            out.problems.append(f"{_where(path)}: planned {doc.plan} results, got {got}"
                                + (f" (last output: {last})" if last else ""))
    elif doc.plan is not None and len(doc.results) > doc.plan:
        out.problems.append(f"{_where(path)}: {len(doc.results)} results, more than the plan of {doc.plan}")
    if doc.bailout is not None:
        out.problems.append(f"{_where(path)}: Bail out!{' ' + doc.bailout if doc.bailout else ''}")
    if doc.unfinished is not None:
        out.problems.append(f"{_where(path)}: nested results from line {doc.unfinished.line} never got "
                            "their parent's result line (the test program or its runner died)")
        _walk(doc.unfinished, path + ["(unfinished)"], out)


def judge(docs: list[Document], allow_all_skipped: bool = False) -> ParsedStep:
    out = _Walk()
    if not docs:
        return ParsedStep([], "no KTAP/TAP output (no version, plan or result line)")
    for doc in docs:
        _walk(doc, [], out)
    failed = [t.name for t in out.subtests if t.result == "fail"]
    skipped = [t for t in out.subtests if t.result == "skip"]
    passed = [t for t in out.subtests if t.result == "pass"]
    reasons = []
    if failed:
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        reasons.append(f"{len(failed)} of {len(out.subtests)} subtest(s) failed: {shown}")
    reasons.extend(out.problems)
    if not failed and not passed and not allow_all_skipped:
        if skipped:
            why = skipped[0].detail
            reasons.append(f"all {len(skipped)} subtests skipped" + (f" (first: {why})" if why else ""))
        elif not reasons:
            reasons.append("no subtest results")
    return ParsedStep(out.subtests, "; ".join(reasons) if reasons else None)
