"""The differential verdict of a gate: one cell on the base vs the same cell
with the series stacked on it (issue 14, point 2). Pure functions over the
cell dicts of summary.json (`outcome`, `reports[].signature/title`, `passed`,
`flaky`, `first_attempt`).

Verdicts:

- `unchanged`  same outcome, same crash signatures;
- `regression` the series cell has a crash signature the base cell has not
  (added to the base's, or where the base was clean), or a clean base cell
  turned report / check-failed / hang / panic / no-boot / error;
- `fixed`      a base crash is gone and nothing new came (the cell is clean,
  or keeps only some of the base's signatures with the same outcome);
- `changed`    a different crash for the same cell: base signatures gone and
  new ones instead, or the same signatures with another outcome (report ->
  hang), or the cell became (in)applicable (n/a), or the base cell errored
  (nothing to compare with: never `fixed`).

Reports after the cell's first oops are follow-on: the kernel marks them
tainted `D` (it has died once already), and what it prints after dying
depends on what the dead task held - an RCU read-side section the series
added turns the same page fault into a page fault plus "sleeping function
called from invalid context in exit_signals". The verdict compares the
reports up to the first oops (and any report not tainted `D`); follow-on
reports that differ are listed in `why` and `follow_on_new`, never dropped.
A cell whose every report is tainted `D` (the first oops's head was lost)
has no follow-on: all its reports count.

Flaky cells (passed only on a retry) are marked, never silently passed: a
series cell whose first attempt failed where the base cell is clean is an
intermittent regression. Where the scenario has a written expectation for
the base variant it still applies to the series cell: it adds a failure
(the series cell breaks an expectation the base cell met), it does not
replace the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from harness.run.judge import judge, report_matches
from harness.scenarios.spec import Expectation

VERDICTS = ("unchanged", "regression", "fixed", "changed")
CLEAN = "clean"
NA = "n/a"
ERROR = "error"      # the harness failed the cell (build, QEMU), not the kernel


@dataclass(frozen=True)
class CellDiff:
    verdict: str                       # one of VERDICTS
    why: str                           # one line for the report
    flaky: bool = False                # either cell passed only on a retry
    new_signatures: tuple[str, ...] = ()    # in the series cell, not in the base cell
    gone_signatures: tuple[str, ...] = ()   # in the base cell, not in the series cell
    expectation: str | None = None     # None: no written expectation for the base variant;
    #                                    "met", "violated" (the base met it), "violated-on-base-too"
    expectation_why: str = ""

    head_clean: bool = False           # the series cell is clean (for fails_gate)
    twin_met: bool = False             # the series is a configured variant's, whose written expectation it meets
    follow_on_new: tuple[str, ...] = ()     # follow-on reports (after an oops) only the series cell has

    @property
    def fails_gate(self) -> bool:
        """A regression, or a written expectation the series broke. Not when the
        series cell is clean or the verdict is `fixed`: a crash the contract
        expected going away, or a scenario becoming applicable (n/a expected),
        is listed, not failed; nor when the series is a configured variant's
        and its cell meets what the scenario writes for that variant."""
        return self.verdict == "regression" or (self.expectation == "violated" and self.verdict != "fixed"
                                                and not self.head_clean and not self.twin_met)

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "why": self.why, "flaky": self.flaky,
                "new_signatures": list(self.new_signatures), "gone_signatures": list(self.gone_signatures),
                "expectation": self.expectation, "expectation_why": self.expectation_why,
                "follow_on_new": list(self.follow_on_new), "twin_met": self.twin_met,
                "fails_gate": self.fails_gate}


def _after_oops(r: dict) -> bool:
    """Printed by a kernel that had already oopsed: taint flag D (TAINT_DIE)."""
    return "D" in (r.get("tainted") or "").split()


def _split(cell: dict) -> tuple[list[dict], list[dict]]:
    """(compared reports, follow-on reports): the follow-on ones are those
    tainted D, when the cell also has a report that is not (its first oops)."""
    reports = list(cell.get("reports") or [])
    if not any(not _after_oops(r) for r in reports):
        return reports, []
    return [r for r in reports if not _after_oops(r)], [r for r in reports if _after_oops(r)]


def _table(reports: list[dict]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in reports:
        sig = r.get("signature") or f"{r.get('kind')}|{r.get('title')}"
        out.setdefault(sig, r.get("title") or sig)
    return out


def signatures(cell: dict) -> dict[str, str]:
    """signature -> title of the cell's compared reports (kind|title stands in
    for a missing signature, as the run comparison keys reports); follow-on
    reports after the cell's first oops are left out (see the module doc)."""
    return _table(_split(cell)[0])


def follow_on(cell: dict) -> dict[str, str]:
    """signature -> title of the cell's follow-on reports (after its first oops)."""
    return _table(_split(cell)[1])


def _as_dict(cell) -> dict:
    """A summary.json cell: the dict itself, or a typed cell result's to_json()."""
    return cell if isinstance(cell, dict) else cell.to_json()


def compare(base: dict, head: dict) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """(verdict, why, new signatures, gone signatures) from final outcomes and signatures."""
    b_out, h_out = base["outcome"], head["outcome"]
    b_sigs, h_sigs = signatures(base), signatures(head)
    new = tuple(s for s in h_sigs if s not in b_sigs)
    gone = tuple(s for s in b_sigs if s not in h_sigs)

    def titles(sigs, table):
        return "; ".join(table[s] for s in sigs)
    if b_out == h_out and not new and not gone:
        return "unchanged", f"{h_out} on both" + (f": {titles(h_sigs, h_sigs)}" if h_sigs else ""), new, gone
    if b_out == NA or h_out == NA:
        if b_out == NA and h_out not in (CLEAN, NA):
            return "regression", f"not applicable on the base; with the series {h_out}" + \
                (f": {titles(new, h_sigs)}" if new else ""), new, gone
        if b_out == NA:
            return "changed", f"not applicable on the base; with the series {h_out}", new, gone
        return "changed", f"{b_out} on the base; not applicable with the series " \
                          f"({head.get('detail') or 'a feature is missing'})", new, gone
    if b_out == ERROR and not new:
        # the harness could not run the base cell: nothing to compare with, so
        # nothing is "fixed" (a new crash signature is still a regression)
        return "changed", f"the base cell errored ({base.get('detail') or 'no detail'}); with the series " \
                          f"{h_out}: no comparison", new, gone
    if b_out == CLEAN:
        return "regression", f"clean on the base; with the series {h_out}" + \
            (f": {titles(new, h_sigs)}" if new else (f": {head.get('detail')}" if head.get("detail") else "")), \
            new, gone
    if h_out == CLEAN:
        return "fixed", f"{b_out} on the base" + (f" ({titles(gone, b_sigs)})" if gone else "") + \
            "; clean with the series", new, gone
    # both cells crashed or failed
    if new and not gone:
        return "regression", f"new with the series: {titles(new, h_sigs)} (besides the base's {b_out})", new, gone
    if new:
        return "changed", f"base: {titles(gone, b_sigs)}; with the series instead: {titles(new, h_sigs)}", new, gone
    if gone and b_out == h_out:
        return "fixed", f"gone with the series: {titles(gone, b_sigs)} (still {h_out})", new, gone
    return "changed", f"{b_out} on the base, {h_out} with the series" + \
        (f" (gone: {titles(gone, b_sigs)})" if gone else ""), new, gone


def _first_attempt_failed(cell: dict) -> str | None:
    """The failing outcome of a flaky cell's first attempt (None if not flaky or unknown)."""
    if not cell.get("flaky"):
        return None
    first = cell.get("first_attempt") or {}
    out = first.get("outcome")
    return out if out and out not in (CLEAN, NA) else None


def _reports_of(cell: dict) -> list:
    return [SimpleNamespace(kind=r.get("kind"), title=r.get("title") or "", step=r.get("step"))
            for r in cell.get("reports") or []]


def classify(base: dict, head: dict, expectation: Expectation | None = None,
             twin_expectation: Expectation | None = None, twin: str = "") -> CellDiff:
    """The differential verdict of one cell.

    `expectation`: the scenario's written expectation for the base variant,
    or None when it has none of its own (a `default:` entry is not written
    for that variant and does not count). The cells are summary.json dicts
    or objects with to_json() giving one.

    `twin_expectation`: when the gated series is exactly a configured
    variant's (`twin`, harness.intake.stack.configured_twin), the scenario's
    expectation written for that variant. A regression that this written
    contract names - the outcome it writes, and every new crash signature a
    report it names - is `changed` ("as written for <twin>"), not failed:
    the project has already written down that the series crashes there. A
    flaky (intermittent) regression, or any crash the contract does not
    name, still fails.
    """
    base, head = _as_dict(base), _as_dict(head)
    verdict, why, new, gone = compare(base, head)
    b_all = {**signatures(base), **follow_on(base)}
    h_follow = follow_on(head)
    follow_new = tuple(s for s in h_follow if s not in b_all)
    if follow_new:
        why += "; follow-on after the oops, with the series only (not compared: the kernel had died " \
               "already): " + "; ".join(h_follow[s] for s in follow_new)
    flaky = bool(base.get("flaky") or head.get("flaky"))
    intermittent = _first_attempt_failed(head)
    if intermittent and base["outcome"] == CLEAN and verdict != "regression":
        verdict = "regression"
        why = f"clean on the base; with the series {intermittent} on the first attempt, then " \
              f"{head['outcome']} on a retry (intermittent)"
    if verdict == "regression" and twin_expectation is not None and not (
            intermittent and base["outcome"] == CLEAN) and _names_every_new(head, new, twin_expectation):
        verdict = "changed"
        why += f" - as written for {twin or 'the configured variant of this series'}: " \
               f"{twin_expectation.describe()}"
    if flaky:
        which = " and ".join(w for w, c in (("base", base), ("series", head)) if c.get("flaky"))
        why += f" [flaky on the {which}: passed only on a retry]"
    exp, exp_why = None, ""
    if expectation is not None:
        v = judge(head["outcome"], head.get("detail", ""), _reports_of(head), expectation)
        if v.passed:
            exp = "met"
        else:
            base_met = judge(base["outcome"], base.get("detail", ""), _reports_of(base), expectation).passed
            exp = "violated" if base_met else "violated-on-base-too"
            exp_why = f"written expectation {expectation.describe()}: {v.why}"
    twin_met = twin_expectation is not None and judge(head["outcome"], head.get("detail", ""), _reports_of(head),
                                                      twin_expectation).passed
    if exp == "violated" and twin_met:
        exp_why += f" (met what is written for {twin or 'the configured variant of this series'})"
    return CellDiff(verdict, why, flaky, new, gone, exp, exp_why, head_clean=head["outcome"] == CLEAN,
                    follow_on_new=follow_new, twin_met=twin_met)


def _names_every_new(head: dict, new: tuple[str, ...], expect: Expectation) -> bool:
    """Does `expect` pass the head cell and name every report behind a new signature?"""
    if not judge(head["outcome"], head.get("detail", ""), _reports_of(head), expect).passed:
        return False
    compared = _split(head)[0]
    for sig in new:
        behind = [r for r in compared if (r.get("signature") or f"{r.get('kind')}|{r.get('title')}") == sig]
        if not behind or not all(report_matches(expect, SimpleNamespace(kind=r.get("kind"), title=r.get("title") or "",
                                                                        step=r.get("step"))) for r in behind):
            return False
    return True


def written_expectation(scenario, variant: str) -> Expectation | None:
    """The expectation a scenario writes for `variant` itself (not its `default:`)."""
    return scenario.expect.get(variant)


def predicted_verdict(base: Expectation, series: Expectation, twin: bool = False) -> str:
    """The verdict a gate should give a cell whose expectations are written for
    both the base variant and the variant the series makes (the shipped series:
    `harness gate kernel-patches/rcu-ops` should turn baseline's column of the
    scenario table into rcu-ops's). Report expectations are the same crash when
    their class, title pattern and step are. `twin`: `series` is written for
    the series' configured twin (classify's twin_expectation), so a crash it
    names is `changed`, not a regression."""
    verdict = _predicted(base, series)
    return "changed" if twin and verdict == "regression" and series.outcome != CLEAN else verdict


def _predicted(base: Expectation, series: Expectation) -> str:
    same = (base.outcome, base.kind, base.title, base.step) == (series.outcome, series.kind, series.title,
                                                               series.step)
    if same:
        return "unchanged"
    if base.outcome == NA or series.outcome == NA:
        return "regression" if base.outcome == NA and series.outcome not in (CLEAN, NA) else "changed"
    if base.outcome == CLEAN:
        return "regression"
    if series.outcome == CLEAN:
        return "fixed"
    return "changed"
