"""The static results page: ``results/<run-id>/index.html``.

One self-contained file (inline CSS and JavaScript, no network) that opens
from the file system or a CI artifact browser:

* the matrix as a grid (scenarios down, variant/profile across), each cell
  coloured by what happened *against what was expected* — an expected crash
  is blue with a check mark, never red — with the report's short title, a
  legend and counts per column;
* a cell's detail on click (or via ``index.html#cell=<id>``): steps, every
  kernel report (frames with ``file:line`` marked), the console excerpt with
  the report lines highlighted, the QEMU command line and the ``harness
  repro`` command with copy buttons;
* crash groups by signature, the comparison with ``--baseline``, per-build
  facts (canary, kernel, patches, profile, options) and a timing picture.

The grid, groups, builds and timing are rendered here in Python (the page
shows them even without JavaScript); each cell's detail travels as a JSON
blob in its own ``<script type="application/json">`` element and is only
parsed when opened, so a 500-cell page loads in well under a second.
Everything reads ``summary.json`` defensively: a missing field degrades to
"not recorded", never to an exception.
"""

from __future__ import annotations

import os
import urllib.parse
from importlib import resources
from pathlib import Path

from harness.core.errors import InputError
from harness.core.util import read_json, write_atomic
from harness.model import CellResult, Outcome
from harness.model.compare import compare, report_key
from harness.output.console_excerpt import console_excerpt
from harness.output.html_builds import builds_section, timing
from harness.output.html_gate import gate_section
from harness.output.html_parts import (CAT_LABEL, CATEGORIES, cell_text, classify, display_path, esc, fmt_s,
                                       json_script, parse_time, shell_quote)
from harness.output.results import load_cells, safe_name

# Console lines embedded per cell: around the reports for cells that crashed
# or failed, a head/tail excerpt for the others; a global budget keeps the
# page small for huge runs (the full logs stay linked beside the page).
CONSOLE_CAP_BAD = 2000
CONSOLE_CAP_OK = 300
CONSOLE_CAP_SQUEEZED = 40
CONSOLE_BUDGET = 250_000

CELL_FILES = ("console.log", "kernel.log", "reports.txt", "reports.json", "qemu-cmdline.txt",
              "repro.sh", "cell.json")

__all__ = ["Page", "classify", "compare", "console_excerpt", "load_results", "write_report"]


def _asset(name: str) -> str:
    return resources.files("harness.output").joinpath("assets", name).read_text(encoding="utf-8")


# The page's style and script: package data files, inlined into every page
CSS = _asset("report.css")
JS = _asset("report.js")


def load_results(results_dir) -> tuple[Path, dict]:
    d = Path(results_dir)
    if not d.exists():
        raise InputError(f"{d}: no such results folder (run `harness run` first, or name one: "
                         "harness report results/<run-id>)")
    if not d.is_dir():
        raise InputError(f"{d}: not a folder (expected results/<run-id>/ with summary.json)")
    s = read_json(d / "summary.json")
    if not isinstance(s, dict):
        raise InputError(f"{d}: no readable summary.json (not a results folder?)")
    if not isinstance(s.get("cells"), list):
        raise InputError(f"{d}/summary.json: no `cells` list (not a harness results summary)")
    return d.resolve(), s


def write_report(results_dir: Path, baseline: Path | None = None) -> Path:
    """Write ``index.html`` into *results_dir* and return its path."""
    d, summary = load_results(results_dir)
    base = None
    if baseline:
        bd, base = load_results(baseline)
        if bd == d:
            base = None
    page = Page(d, summary, base)
    out = d / "index.html"
    write_atomic(out, page.render())
    return out


class Page:
    def __init__(self, d: Path, summary: dict, baseline: dict | None):
        self.d, self.s, self.base = d, summary, baseline
        self.cells = load_cells(summary)
        self.builds = [b for b in summary.get("builds") or [] if isinstance(b, dict)]
        base_cells = load_cells(baseline) if baseline else []
        self.cmp = compare(self.cells, base_cells, baseline.get("run_id") or "?") if baseline else None
        self.cat = {c.id: classify(c) for c in self.cells}
        self.index = {c.id: i for i, c in enumerate(self.cells)}
        self.cols = self._columns()
        self.rows = list(dict.fromkeys(c.scenario for c in self.cells))
        self.grid = {(c.variant, c.profile, c.scenario): c for c in self.cells}
        self.dir_display = display_path(d)
        self.base_cells = {c.id: c for c in base_cells}

    def _columns(self):
        order = list(dict.fromkeys((b.get("variant"), b.get("profile")) for b in self.builds))
        present = list(dict.fromkeys((c.variant, c.profile) for c in self.cells))
        vorder = list(dict.fromkeys([v for v, _ in order] + sorted({v for v, _ in present})))
        porder = list(dict.fromkeys([p for _, p in order] + sorted({p for _, p in present})))
        return sorted(set(present), key=lambda vp: (vorder.index(vp[0]), porder.index(vp[1])))

    # -- overall ------------------------------------------------------------
    def render(self) -> str:
        title = f"Run {self.s.get('run_id') or self.d.name}"
        parts = [
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
            "<meta name=viewport content='width=device-width, initial-scale=1'>",
            f"<title>{esc(title)} — kernel test matrix</title><style>{CSS}</style></head><body>",
            self.header(),
            "<main>",
            gate_section(self),
            self.changes(),
            self.matrix(),
            self.groups(),
            builds_section(self),
            timing(self),
            "</main>",
            "<div id=detail hidden><div id=detail-box role=dialog aria-modal=true>"
            "<button id=close title='close (Esc)'>×</button><div id=detail-body></div></div></div>",
            self.blobs(),
            f"<script>{JS}</script></body></html>",
        ]
        return "\n".join(p for p in parts if p)

    def header(self) -> str:
        s, t = self.s, self.s.get("totals") or {}
        start, end = parse_time(s.get("started")), parse_time(s.get("finished"))
        wall = (end - start).total_seconds() if start and end else None
        counts = {k: 0 for k, _, _ in CATEGORIES}
        for c in self.cat.values():
            counts[c] += 1
        passed = sum(1 for c in self.cells if c.passed)
        failed = sum(1 for c in self.cells if not c.passed)
        verdict = "pass" if failed == 0 and self.cells else "fail"
        chips = "".join(f"<span class='chip {k}'>{esc(CAT_LABEL[k])} <b>{n}</b></span>"
                        for k, n in counts.items() if n)
        incomplete = "" if s.get("complete", True) else \
            "<div class=banner>INCOMPLETE RUN — the summary was written before the run ended" + \
            (f" ({esc(s.get('note'))})" if s.get("note") else "") + "; cells not listed did not run</div>"
        nav = ["<a href=#matrix>matrix</a>"]
        if self.cmp:
            nav.append("<a href=#changes>changes</a>")
        nav += ["<a href=#groups>crash groups</a>", "<a href=#builds>builds</a>", "<a href=#timing>timing</a>"]
        inputs = s.get("inputs") or {}
        facts = [("started", s.get("started")), ("finished", s.get("finished") or "—"),
                 ("wall time", fmt_s(wall) if wall is not None else "—"),
                 ("exit status", s.get("exit_status") if s.get("exit_status") is not None else "—"),
                 ("budgets", (s.get("calibration") or {}).get("describe")),
                 ("config", inputs.get("config_file")), ("QEMU", inputs.get("qemu")),
                 ("results", self.dir_display)]
        if self.base:
            facts.append(("baseline", self.base.get("run_id")))
        fact_html = "".join(f"<span><i>{esc(k)}</i> {esc(v)}</span>" for k, v in facts if v not in (None, ""))
        return (f"<header><nav>{' · '.join(nav)}</nav>"
                f"<h1><span class='verdict {verdict}'>{'PASS' if verdict == 'pass' else 'FAIL'}</span> "
                f"Run {esc(s.get('run_id') or self.d.name)}</h1>"
                f"<div class=facts>{fact_html}</div>"
                f"<div class=totals><b>{passed}/{len(self.cells)}</b> cells as expected · "
                f"<b>{failed}</b> failed · <b>{t.get('flaky', counts['flaky'])}</b> flaky · "
                f"<b>{counts['na']}</b> n/a {chips}</div>{incomplete}</header>")

    # -- comparison ------------------------------------------------------------
    def changes(self) -> str:
        if not self.cmp:
            return ""
        cmp = self.cmp
        rows = []
        for key, label, cls in (("new_failures", "new failures", "m-new-failure"),
                                ("new_signatures", "new crash signatures", "m-new-signature"),
                                ("fixed", "fixed", "m-fixed"), ("new_cells", "cells not in the baseline", ""),
                                ("gone_cells", "baseline cells not in this run", "")):
            ids = getattr(cmp, key)
            if key == "gone_cells":
                links = ", ".join(f"<code>{esc(i)}</code>" for i in ids)
            else:
                links = ", ".join(self.cell_link(i) for i in ids)
            rows.append(f"<tr><th><span class='mark {cls}'></span>{esc(label)}</th><td class=n>{len(ids)}</td>"
                        f"<td>{links or '—'}</td></tr>")
        verdict = "no regressions" if not cmp.regressed else \
            f"{len(cmp.new_failures)} new failure(s), {len(cmp.new_signatures)} cell(s) with a new crash signature"
        return (f"<section id=changes><h2>Changes since baseline {esc(cmp.baseline)}: {esc(verdict)}</h2>"
                f"<table class=list>{''.join(rows)}</table></section>")

    def cell_link(self, cid: str) -> str:
        c = self.cells[self.index[cid]] if cid in self.index else None
        cls = self.cat.get(cid, "")
        title = ""
        if c:
            title = f"{c.outcome}: {c.why}"
        return (f"<a class='cl {cls}' href='#cell={urllib.parse.quote(cid, safe='')}' "
                f"title='{esc(title)}'>{esc(cid)}</a>")

    # -- the grid ------------------------------------------------------------
    def matrix(self) -> str:
        cols, rows = self.cols, self.rows
        variants = list(dict.fromkeys(v for v, _ in cols))
        h1 = "".join(f"<th colspan={sum(1 for v2, _ in cols if v2 == v)} class=var>{esc(v)}</th>"
                     for v in variants)
        h2 = "".join(f"<th class=prof>{esc(p)}</th>" for _, p in cols)
        body = []
        for s in rows:
            tds = []
            bad = 0
            for v, p in cols:
                c = self.grid.get((v, p, s))
                if c is None:
                    tds.append("<td class=none title='not in the matrix'>·</td>")
                    continue
                cat = self.cat[c.id]
                bad += not c.passed
                tds.append(self.grid_cell(c, cat))
            body.append(f"<tr data-bad={1 if bad else 0}><th class=scen>{esc(s)}</th>{''.join(tds)}"
                        f"<td class='rowsum{' bad' if bad else ''}'>{bad or ''}</td></tr>")
        foot = []
        for k, label, _ in CATEGORIES:
            counts = [sum(1 for c in self.cells if c.variant == v and c.profile == p
                          and self.cat[c.id] == k) for v, p in cols]
            if any(counts):
                foot.append(f"<tr class=count><th><span class='sw {k}'></span>{esc(label)}</th>" +
                            "".join(f"<td>{n or ''}</td>" for n in counts) + "<td></td></tr>")
        totals = []
        for v, p in cols:
            # of the applicable cells: a passing n/a is left out, a failing one counts
            cs = [c for c in self.cells if c.variant == v and c.profile == p
                  and not (c.outcome == Outcome.NA and c.passed)]
            ok = sum(1 for c in cs if c.passed)
            totals.append(f"<td class='{'good' if ok == len(cs) else 'bad'}'>{ok}/{len(cs)}</td>")
        foot.append(f"<tr class='count tot'><th title='cells that matched their expectation, of the applicable "
                    f"ones (n/a left out)'>as expected</th>{''.join(totals)}<td></td></tr>")
        legend = "".join(f"<span title='{esc(desc)}'><span class='sw {k}'></span>{esc(label)}</span>"
                         for k, label, desc in CATEGORIES)
        marks = ""
        if self.cmp:
            marks = ("<span><span class='flag m-new-failure'>NEW FAIL</span> new failure vs baseline</span>"
                     "<span><span class='flag m-new-signature'>NEW SIG</span> new crash signature</span>"
                     "<span><span class='flag m-fixed'>FIXED</span> fixed</span>")
        return (f"<section id=matrix><h2>Matrix <small>{len(rows)} scenarios × {len(cols)} builds, "
                f"{len(self.cells)} cells</small></h2>"
                f"<div class=legend>{legend}{marks}<span class=ctl><label><input type=checkbox id=onlybad> "
                f"only rows with failures</label> <input id=filter type=search placeholder='filter scenarios'>"
                f"</span></div>"
                f"<div class=gridwrap><table id=grid><thead><tr><th rowspan=2 class=corner>scenario \\ "
                f"variant/profile</th>{h1}<th rowspan=2 class=rowsum title='failed cells in the row'>✗</th></tr>"
                f"<tr>{h2}</tr></thead><tbody>{''.join(body)}</tbody><tfoot>{''.join(foot)}</tfoot></table>"
                f"</div></section>")

    def grid_cell(self, c: CellResult, cat: str) -> str:
        label, text = cell_text(c, cat)
        cid = c.id
        verdict = "–" if cat == "na" else ("✓" if c.passed else "✗")
        marks = ""
        mlist = self.cmp.per_cell.get(cid, []) if self.cmp else []
        short = {"new-failure": "NEW FAIL", "new-signature": "NEW SIG", "fixed": "FIXED"}
        for m in mlist:
            if m in short:
                marks += f"<span class='flag m-{m}' title='{esc(m.replace('-', ' '))} vs baseline'>{short[m]}</span>"
        tip = [cid, f"outcome: {c.outcome}", f"expected: {c.expectation.describe()}"]
        if c.why:
            tip.append(c.why)
        if mlist:
            tip.append("vs baseline: " + ", ".join(mlist))
        return (f"<td class='c {cat}' data-i={self.index[cid]}><a href='#cell={urllib.parse.quote(cid, safe='')}' "
                f"title='{esc(chr(10).join(tip))}'><b>{verdict} {esc(label)}{marks}</b>"
                f"<span class=t>{esc(text)}</span></a></td>")

    # -- crash groups ------------------------------------------------------------
    def groups(self) -> str:
        groups: dict[str, dict] = {}
        order = sorted(self.cells, key=lambda c: (c.started or "", self.index[c.id]))
        for c in order:
            for r in c.reports:
                u = report_key(r)
                g = groups.setdefault(u, {"title": r.title, "kind": r.kind, "cells": [],
                                          "expected": 0, "unexpected": 0, "first": c, "sig": r.signature,
                                          "frame": r.frame, "module": r.module})
                if c.id not in g["cells"]:
                    g["cells"].append(c.id)
                g["expected" if r.expected else "unexpected"] += 1
        if not groups:
            return "<section id=groups><h2>Crash groups</h2><p class=muted>No kernel reports in this run.</p></section>"
        new = set(self.cmp.new_run_signatures) if self.cmp else set()
        rows = []
        for u, g in sorted(groups.items(), key=lambda kv: (-kv[1]["unexpected"], -len(kv[1]["cells"]))):
            status = "unexpected" if g["unexpected"] and not g["expected"] else \
                ("expected" if not g["unexpected"] else "mixed")
            first = g["first"]
            first_txt = self.cell_link(first.id)
            if first.started:
                first_txt += f" <small>{esc(first.started)}</small>"
            badge = "<span class=new>NEW</span> " if u in new else ""
            if self.cmp and u not in new:
                first_txt += " <small>(also in baseline)</small>"
            cells = ", ".join(self.cell_link(i) for i in g["cells"][:40])
            if len(g["cells"]) > 40:
                cells += f" … and {len(g['cells']) - 40} more"
            rows.append(f"<tr class=g-{status}><td>{badge}<b>{esc(g['title'])}</b><br><small>{esc(g['kind'])}"
                        f"{' · module ' + esc(g['module']) if g['module'] else ''}"
                        f"{' · sig ' + esc(str(g['sig'])[:16]) if g['sig'] else ''}</small></td>"
                        f"<td class='st {status}'>{status}</td><td class=n>{len(g['cells'])}</td>"
                        f"<td>{cells}</td><td>{first_txt}</td></tr>")
        return (f"<section id=groups><h2>Crash groups <small>{len(groups)} distinct signature(s)</small></h2>"
                "<table class=list><thead><tr><th>report</th><th>vs expectation</th><th>cells</th><th>where</th>"
                f"<th>first seen</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>")

    # -- per-cell detail blobs ------------------------------------------------
    def blobs(self) -> str:
        bad = [c for c in self.cells if c.reports or not c.passed]
        caps = {c.id: CONSOLE_CAP_BAD if (c.reports or not c.passed) else CONSOLE_CAP_OK for c in self.cells}
        if len(bad) * CONSOLE_CAP_BAD + (len(self.cells) - len(bad)) * CONSOLE_CAP_OK > CONSOLE_BUDGET:
            for c in self.cells:
                if caps[c.id] == CONSOLE_CAP_OK:
                    caps[c.id] = CONSOLE_CAP_SQUEEZED
            left = CONSOLE_BUDGET - (len(self.cells) - len(bad)) * CONSOLE_CAP_SQUEEZED
            per_bad = max(200, left // max(1, len(bad)))
            for c in bad:
                caps[c.id] = min(CONSOLE_CAP_BAD, per_bad)
        meta = {"cells": [c.id for c in self.cells], "labels": CAT_LABEL, "run": self.s.get("run_id"),
                "title": f"Run {self.s.get('run_id') or self.d.name} — kernel test matrix",
                "baseline": self.cmp.baseline if self.cmp else None}
        out = [f"<script type=application/json id=meta>{json_script(meta)}</script>"]
        for i, c in enumerate(self.cells):
            out.append(f"<script type=application/json id=d{i}>{json_script(self.detail(c, caps[c.id]))}</script>")
        return "\n".join(out)

    def detail(self, c: CellResult, cap: int) -> dict:
        rel = c.dir or f"cells/{safe_name(c.id)}"
        cdir = self.d / rel
        try:
            present = set(os.listdir(cdir))
        except OSError:
            present = set()
        files = [f for f in CELL_FILES if f in present]
        qemu = ""
        if "qemu-cmdline.txt" in files:
            try:
                qemu = (cdir / "qemu-cmdline.txt").read_text(errors="replace").strip()
            except OSError:
                pass
        console = console_excerpt(cdir / "console.log", c, cap) if "console.log" in files else None
        shown = f"{self.dir_display}/{rel}" if self.dir_display != "." else rel
        keys = ("id", "variant", "profile", "scenario", "outcome", "expected", "expected_detail", "passed",
                "flaky", "attempts", "first_attempt", "why", "detail", "duration_s", "tainted", "build",
                "boot", "console_lines", "boot_s", "steps", "reports", "started", "accel")
        record = c.to_json()
        d = {k: record[k] for k in keys if k in record}
        for st in d.get("steps") or []:
            if isinstance(st, dict) and isinstance(st.get("output"), str) and len(st["output"]) > 20000:
                st["output"] = st["output"][:20000] + "\n… (cut; see the cell folder)"
        d.update({"cat": self.cat[c.id], "dir": rel, "files": files, "qemu": qemu, "console": console,
                  "repro": f"harness repro {shell_quote(shown)}",
                  "repro_sh": f"sh {shell_quote(shown + '/repro.sh')}",
                  "marks": self.cmp.per_cell.get(c.id, []) if self.cmp else []})
        o = self.base_cells.get(c.id)
        if o is not None:
            d["baseline_cell"] = {"outcome": str(o.outcome), "passed": o.passed,
                                  "titles": [r.title for r in o.reports]}
        return d
