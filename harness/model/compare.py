"""Comparing two runs cell by cell: the one comparison the CLI, the page and
the gate use."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.model.cell import CellResult, ReportRef


def report_key(r: ReportRef) -> str:
    """A report's identity across runs: the detector's signature (its normalised title)."""
    return r.signature or f"{r.kind}|{r.title}"


@dataclass
class Comparison:
    baseline: str                                   # the earlier run's id
    new_failures: list[str] = field(default_factory=list)     # passed before, fails now
    fixed: list[str] = field(default_factory=list)            # failed before, passes now
    new_signatures: list[str] = field(default_factory=list)   # a crash signature the cell did not have
    changed: list[str] = field(default_factory=list)          # another outcome than before
    new_cells: list[str] = field(default_factory=list)        # not in the earlier run
    gone_cells: list[str] = field(default_factory=list)       # only in the earlier run
    new_run_signatures: list[str] = field(default_factory=list)   # signatures no cell had before
    per_cell: dict[str, list[str]] = field(default_factory=dict)  # cell id -> marks for the page

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures or self.new_signatures)


def compare(cells: list[CellResult], before: list[CellResult], baseline: str = "?") -> Comparison:
    old = {c.id: c for c in before}
    old_sigs_all = {report_key(r) for c in before for r in c.reports}
    out = Comparison(baseline)
    for c in cells:
        o = old.get(c.id)
        marks = []
        if o is None:
            out.new_cells.append(c.id)
            marks.append("new-cell")
        else:
            if o.passed and not c.passed:
                out.new_failures.append(c.id)
                marks.append("new-failure")
            elif not o.passed and c.passed:
                out.fixed.append(c.id)
                marks.append("fixed")
            if o.outcome != c.outcome:
                out.changed.append(c.id)
            old_sigs = {report_key(r) for r in o.reports}
            if any(report_key(r) not in old_sigs for r in c.reports):
                out.new_signatures.append(c.id)
                marks.append("new-signature")
        for r in c.reports:
            k = report_key(r)
            if k not in old_sigs_all and k not in out.new_run_signatures:
                out.new_run_signatures.append(k)
        if marks:
            out.per_cell[c.id] = marks
    ids = {c.id for c in cells}
    out.gone_cells = sorted(i for i in old if i not in ids)
    return out
