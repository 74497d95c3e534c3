"""A gate's answer for the series author: gate.md, the terminal text, JUnit.

Written the way the kernel test robot answers a series: per patch, its
verdict and findings (new ones marked `>>`); per regression the crash title,
the cell, the first lines of the report with symbolised frames, the patch it
was bisected to and the command that reproduces it.
"""

from __future__ import annotations

from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.model import CellResult
from harness.model.checks import CheckResult, Status
from harness.model.gate import GatePatch, GateSummary

REPORT_LINES = 25


def _patch_label(p: GatePatch, n: int) -> str:
    return f"{p.index}/{n} {p.subject!r}"


def _check_bit(p, c) -> str:
    """A check's answer in the patch table, saying whether the policy fails the gate on it."""
    bit = f"{c.check.value} {c.status.value}"
    if c.status is not Status.FAILED:
        return bit
    if any(f.startswith(f"{c.check.value}:") for f in p.check_failures):
        return f"**{bit}** (fails the gate)"
    return f"{bit} (reported; does not fail the gate)"


def verdict_line(s: GateSummary) -> str:
    count = {v: sum(1 for c in s.cells if c.verdict == v) for v in ("regression", "fixed", "changed", "unchanged")}
    failing_checks = sum(len(p.check_failures) for p in s.patches)
    head = "ERROR" if s.errors else ("PASS" if s.passed else "FAIL")
    parts = [f"{len(s.regressions)} regression(s)"] + [f"{count[v]} {v}" for v in ("fixed", "changed", "unchanged")]
    if failing_checks:
        parts.append(f"{failing_checks} failing per-patch check(s)")
    return f"{head}: " + ", ".join(parts) + f" ({len(s.cells)} cells)"


def _fails(p: GatePatch, c: CheckResult) -> bool:
    return any(f.startswith(f"{c.check.value}:") for f in p.check_failures)


def _check_lines(p: GatePatch, c: CheckResult) -> list[str]:
    out = [f"- **{c.check.value}**: {c.summary()}" + (" — **fails the gate**" if _fails(p, c) else "")]
    if c.findings:
        out += ["", "  ```", *("  " + line for f in c.findings for line in f.render().splitlines()), "  ```"]
    out += [f"  - not checked: `{u.file}`: {u.reason}" for u in c.unchecked]
    out += [f"  - note: {n}" for n in c.notes]
    return out


def _report_excerpt(cell: CellResult | None, sigs: list[str]) -> tuple[str, list[str]]:
    """The title and first lines of the report a regression is about."""
    if cell is None or not cell.reports:
        return "", []
    rep = next((r for r in cell.reports if r.signature in sigs), None) or cell.unexpected_reports[:1] or \
        cell.reports[:1]
    r = rep if not isinstance(rep, list) else rep[0]
    return r.title, r.text.splitlines()[:REPORT_LINES]


def gate_markdown(s: GateSummary, head_cells: dict[str, CellResult], gate_dir: Path,
                  shown_dir: str | None = None) -> str:
    shown = shown_dir or str(gate_dir)
    series = s.series
    n = len(s.patches)
    title = series.get("cover_subject") or (s.patches[0].subject if s.patches else "(empty series)")
    rev = series.get("revision") or 1
    out = [f"# Gate: {title}" + (f" (v{rev})" if rev > 1 else ""), "",
           f"**{verdict_line(s)}**", "",
           f"- series: {series.get('source')} `{series.get('origin')}`, {n} patch(es), key "
           f"`{str(series.get('key', ''))[:16]}`",
           f"- on: `{s.on}` (base results {'reused from an earlier gate' if s.base_cached else 'run now'}, "
           f"in `{s.base_dir}/`)",
           f"- series variant: `{s.head_variant}`"]
    if s.twin:
        out.append(f"- the series is exactly the configured variant `{s.twin}`: the scenarios' expectations "
                   f"written for `{s.twin}` are its contract too (a crash they name is `changed`, not a regression)")
    if s.timings:
        out.append("- time: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in s.timings.items()))
    for e in s.errors:
        out.append(f"- **harness error**: {e}")
    out += ["", "## Patches", "", "| # | patch | author | verdict |", "|---|---|---|---|"]
    for p in s.patches:
        bits = []
        if p.culprit_of:
            bits.append(f"**first bad patch** of {len(p.culprit_of)} regression(s)")
        bits += [_check_bit(p, c) for c in p.checks if c.status is not Status.PASSED]
        out.append(f"| {p.index}/{n} | {p.subject} | {p.author} | {'; '.join(bits) or 'ok'} |")
    if any(p.checks for p in s.patches):
        out += ["", "## Per-patch checks", "", "New findings (not there at the previous prefix) are prefixed by `>>`."]
    for p in s.patches:
        if not p.checks:
            continue
        out += ["", f"### [PATCH {p.index}/{n}] {p.subject}", ""]
        for c in p.checks:
            out += _check_lines(p, c)
    regressions = s.regressions
    if regressions:
        out += ["", "## Regressions"]
        for gc in regressions:
            cell = head_cells.get(f"{gc.profile}.{gc.scenario}")
            rtitle, lines = _report_excerpt(cell, gc.new_signatures)
            out += ["", f"### {gc.profile}/{gc.scenario}: {rtitle or gc.head_outcome}", "",
                    f"- {gc.why}"]
            if gc.expectation_why:
                out.append(f"- {gc.expectation_why}")
            if gc.culprit:
                p = s.patches[gc.culprit - 1]
                out.append(f"- first bad patch: **{_patch_label(p, n)}** ({gc.culprit_why})")
            else:
                out.append(f"- first bad patch: not searched ({gc.culprit_why or 'bisection off'})")
            if lines:
                out += ["", "```", *lines, "```"]
            cdir = cell.dir if cell and cell.dir else f"cells/{gc.head_id}"
            out += ["", f"reproduce: `harness repro {shown}/{cdir}`"]
    for verdict, label in (("fixed", "Fixed (a base crash gone)"), ("changed", "Changed")):
        cells = [c for c in s.cells if c.verdict == verdict and not c.fails_gate]
        if cells:
            out += ["", f"## {label}", ""]
            out += [f"- {c.profile}/{c.scenario}: {c.why}" for c in cells]
    follow = [c for c in s.cells if c.follow_on_new and not c.fails_gate]
    if follow:
        out += ["", "## Follow-on reports (after the cell's first oops; listed, not compared)", ""]
        for c in follow:
            cell = head_cells.get(f"{c.profile}.{c.scenario}")
            titles = {r.signature: r.title for r in (cell.reports if cell else [])}
            out.append(f"- {c.profile}/{c.scenario}: with the series only: "
                       + "; ".join(titles.get(sig, sig) for sig in c.follow_on_new))
    unchanged = [c for c in s.cells if c.verdict == "unchanged"]
    if unchanged:
        out += ["", f"## Unchanged ({len(unchanged)} cells)", "",
                ", ".join(f"{c.scenario}" + (f" ({c.base_outcome})" if c.base_outcome != "clean" else "")
                          for c in unchanged)]
    return "\n".join(out) + "\n"


def gate_text(s: GateSummary, gate_dir: Path) -> str:
    """What the terminal shows at the end of a gate."""
    n = len(s.patches)
    lines = [f"gate: {verdict_line(s)} -> {gate_dir}/gate.md"]
    for gc in s.regressions:
        who = f"first bad patch {_patch_label(s.patches[gc.culprit - 1], n)}" if gc.culprit else "not bisected"
        lines.append(f"  REGRESSION {gc.profile}/{gc.scenario}: {gc.why}; {who}")
    for p in s.patches:
        for reason in p.check_failures:
            lines.append(f"  CHECK patch {_patch_label(p, n)}: {reason}")
    lines += [f"  ERROR {e}" for e in s.errors]
    return "\n".join(lines)


def gate_junit(s: GateSummary) -> str:
    """A testsuite per patch (its checks and whether it is a regression's first bad
    patch) and one of the differential cells."""
    n = len(s.patches)
    suites = []
    key = str(s.series.get("key", ""))[:12]
    for p in s.patches:
        cls = f"gate.{key}.patch{p.index:02d}"
        cases = []
        tc = TestCase(name="regressions", classname=cls)
        if p.culprit_of:
            tc.add_failure_info(message=f"first bad patch of {', '.join(p.culprit_of)}",
                                failure_type="regression")
        cases.append(tc)
        for c in p.checks:
            tc = TestCase(name=c.check.value, classname=cls, elapsed_sec=c.duration_s,
                          stdout="\n".join(f.render() for f in c.findings))
            if _fails(p, c):
                tc.add_failure_info(message=c.summary(), failure_type=c.check.value)
            elif c.status in (Status.NOT_RUN, Status.PARTIAL):
                # what could not be looked at is never a pass
                tc.add_skipped_info(c.summary())
            cases.append(tc)
        suites.append(TestSuite(f"patch {p.index}/{n}: {p.subject}", cases))
    cases = []
    for gc in s.cells:
        tc = TestCase(name=gc.scenario, classname=f"gate.{gc.profile}",
                      stdout=f"{gc.verdict}: {gc.why}")
        if gc.fails_gate:
            culprit = f"; first bad patch {gc.culprit}/{n}" if gc.culprit else ""
            tc.add_failure_info(message=f"{gc.verdict}: {gc.why}{culprit}", failure_type=gc.verdict)
        cases.append(tc)
    suites.append(TestSuite(f"gate cells on {s.on}", cases))
    for e in s.errors:
        tc = TestCase(name="harness", classname="gate")
        tc.add_error_info(message=e, error_type="harness error")
        suites.append(TestSuite("gate errors", [tc]))
        break
    return to_xml_report_string(suites)

