"""The results page's gate section: the series, its patches, and every cell on
the base and with the series side by side (shown when the run folder holds a
gate.json)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from harness.core.util import read_json
from harness.model import CellResult
from harness.model.gate import GateSummary
from harness.output.gate_report import verdict_line
from harness.output.html_parts import esc, short_title
from harness.output.results import load_cells

VERDICT_CLASS = {"regression": "crash", "fixed": "ok", "changed": "fail", "unchanged": "na"}


def load_gate_summary(run_dir: Path) -> GateSummary | None:
    d = read_json(Path(run_dir) / "gate.json")
    return GateSummary.from_json(d) if isinstance(d, dict) else None


def _outcome(c: CellResult | None) -> str:
    if c is None:
        return "<span class=muted>not run</span>"
    title = short_title(c.reports[0].title) if c.reports else ""
    return esc(str(c.outcome)) + (f"<br><small>{esc(title)}</small>" if title else "")


def gate_section(page) -> str:
    g = load_gate_summary(page.d)
    if g is None:
        return ""
    base = read_json(page.d / g.base_dir / "summary.json")
    base_cells = {f"{c.profile}.{c.scenario}": c for c in load_cells(base)} if isinstance(base, dict) else {}
    head_cells = {f"{c.profile}.{c.scenario}": c for c in page.cells}
    n = len(g.patches)
    prow = []
    for p in g.patches:
        bits = (["<b class=bad>first bad patch</b> of " + ", ".join(esc(i) for i in p.culprit_of)]
                if p.culprit_of else [])
        failing = {f.split(":", 1)[0] for f in p.check_failures}
        bits += [f"{esc(c.check.value)}: <span class='{'bad' if c.check.value in failing else ''}'>"
                 f"{esc(c.summary())}</span>" for c in p.checks]
        prow.append(f"<tr><td>{p.index}/{n}</td><td>{esc(p.subject)}</td><td>{esc(p.author)}</td>"
                    f"<td><code>{esc(p.sha256[:12])}</code></td><td>{'<br>'.join(bits) or 'ok'}</td></tr>")
    crow = []
    order = {"regression": 0, "changed": 1, "fixed": 2, "unchanged": 3}
    for gc in sorted(g.cells, key=lambda c: (order.get(c.verdict, 9), c.scenario)):
        key = f"{gc.profile}.{gc.scenario}"
        culprit = f"{gc.culprit}/{n} {esc(g.patches[gc.culprit - 1].subject)}" if gc.culprit else ""
        link = f"<a href='#cell={urllib.parse.quote(gc.head_id, safe='')}'>{esc(gc.scenario)}</a>"
        crow.append(f"<tr class={VERDICT_CLASS.get(gc.verdict, '')}><td>{link} <small>{esc(gc.profile)}</small></td>"
                    f"<td>{_outcome(base_cells.get(key))}</td><td>{_outcome(head_cells.get(key))}</td>"
                    f"<td><b>{esc(gc.verdict)}</b>{' ✗' if gc.fails_gate else ''}<br><small>{esc(gc.why)}</small>"
                    f"</td><td>{culprit}</td></tr>")
    errors = "".join(f"<p class=bad>harness error: {esc(e)}</p>" for e in g.errors)
    title = g.series.get("cover_subject") or (g.patches[0].subject if g.patches else "")
    return (f"<section id=gate><h2>Gate: {esc(title)} <small>on {esc(g.on)}, {n} patch(es)</small></h2>"
            f"<p><b>{esc(verdict_line(g))}</b> — base results "
            f"{'reused' if g.base_cached else 'run now'} (<a href='{esc(g.base_dir)}/index.html'>base run</a>)</p>"
            f"{errors}<h3>Patches</h3><table class=list><thead><tr><th>#</th><th>subject</th><th>author</th>"
            f"<th>sha256</th><th>verdict</th></tr></thead><tbody>{''.join(prow)}</tbody></table>"
            f"<h3>Base vs series</h3><table class=list><thead><tr><th>cell</th><th>base ({esc(g.on)})</th>"
            f"<th>with the series</th><th>verdict</th><th>first bad patch</th></tr></thead>"
            f"<tbody>{''.join(crow)}</tbody></table></section>")
