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

import datetime as dt
import html
import json
import os
import re
import urllib.parse
from pathlib import Path

from harness.errors import InputError
from harness.util import read_json, write_atomic

# Console lines embedded per cell: around the reports for cells that crashed
# or failed, a head/tail excerpt for the others; a global budget keeps the
# page small for huge runs (the full logs stay linked beside the page).
CONSOLE_CAP_BAD = 2000
CONSOLE_CAP_OK = 300
CONSOLE_CAP_SQUEEZED = 40
CONSOLE_BUDGET = 250_000
LINE_CAP = 1000

# Grid categories: (css class, legend label, description)
CATEGORIES = [
    ("ok", "clean", "passed, no kernel report"),
    ("xcrash", "expected crash", "passed: the expected kernel report (or hang/panic) was seen"),
    ("crash", "unexpected crash", "failed: a kernel report nobody expected"),
    ("fail", "check failed", "failed without a report: a check failed or an expected crash did not happen"),
    ("dead", "hang / panic / no-boot", "failed: the guest hung, panicked or did not boot"),
    ("error", "error", "the harness could not run the cell (build failed, blind kernel, QEMU)"),
    ("na", "n/a", "not applicable to this kernel"),
    ("flaky", "flaky", "failed first, then passed on retry"),
]
CAT_LABEL = {c: label for c, label, _ in CATEGORIES}

CELL_FILES = ("console.log", "kernel.log", "reports.txt", "reports.json", "qemu-cmdline.txt",
              "repro.sh", "cell.json")


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _json_script(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).replace("<", "\\u003c")


# ---------------------------------------------------------------------------
# Classification

def classify(c: dict) -> str:
    outcome = c.get("outcome") or "error"
    passed = bool(c.get("passed"))
    reports = c.get("reports") or []
    if outcome == "n/a":
        return "na"
    if outcome == "error":
        return "error"
    if c.get("flaky"):
        return "flaky"
    if passed:
        return "ok" if outcome == "clean" and not reports else "xcrash"
    if outcome in ("hang", "panic", "no-boot"):
        return "dead"
    if any(not r.get("expected") for r in reports):
        return "crash"
    return "fail"


def main_report(c: dict) -> dict | None:
    reports = c.get("reports") or []
    if not reports:
        return None
    if not c.get("passed"):
        unexpected = [r for r in reports if not r.get("expected")]
        if unexpected:
            return unexpected[0]
    expected = [r for r in reports if r.get("expected")]
    return (expected or reports)[0]


_SHORTER = ((re.compile(r"^unable to handle (kernel )?page fault"), "page fault"),
            (re.compile(r"^unable to handle kernel NULL pointer dereference"), "NULL deref"),
            (re.compile(r"^unable to handle kernel paging request"), "paging request"),
            (re.compile(r"^general protection fault"), "GPF"))


def short_title(title: str) -> str:
    """The title as a grid cell can show it: the function, which says most, kept."""
    t = re.sub(r"^(BUG|WARNING|INFO): ", "", title or "")
    for pat, repl in _SHORTER:
        t = pat.sub(repl, t)
    return t if len(t) <= 90 else t[:87] + "…"


def cell_text(c: dict, cat: str) -> tuple[str, str]:
    """(outcome label, short text) shown inside a grid cell."""
    outcome = c.get("outcome") or "?"
    r = main_report(c)
    if cat == "flaky" and r is None:
        first = c.get("first_attempt") or {}
        text = f"passed on attempt {c.get('attempts') or '?'}" + (f"; first: {first['outcome']}"
                                                                  if first.get("outcome") else "")
        return f"flaky ({outcome})", text
    label = {"ok": "clean", "xcrash": "expected " + ("crash" if outcome in ("report", "clean") else outcome),
             "crash": "CRASH", "fail": "FAILED", "dead": outcome.upper(), "error": "ERROR", "na": "n/a",
             "flaky": f"flaky ({outcome})"}[cat]
    if r is not None:
        text = short_title(r.get("title") or r.get("kind") or "")
    elif cat in ("ok",):
        text = ""
    else:
        text = (c.get("why") or c.get("detail") or "").strip().split("\n")[0]
        text = text if len(text) <= 90 else text[:87] + "…"
    return label, text


def _uid(r: dict) -> str:
    return r.get("signature") or f"{r.get('kind')}|{r.get('title')}"


# ---------------------------------------------------------------------------
# Comparison with a baseline run

def compare(summary: dict, baseline: dict) -> dict:
    old = {c.get("id"): c for c in baseline.get("cells") or []}
    old_sigs_all = {_uid(r) for c in old.values() for r in c.get("reports") or []}
    per_cell: dict[str, list[str]] = {}
    out = {"baseline": baseline.get("run_id") or "?", "new_failures": [], "fixed": [],
           "new_signatures": [], "changed": [], "new_cells": [], "gone_cells": [], "per_cell": per_cell,
           "new_run_signatures": []}
    seen_new = set()
    for c in summary.get("cells") or []:
        cid = c.get("id")
        o = old.get(cid)
        marks = []
        if o is None:
            out["new_cells"].append(cid)
            marks.append("new-cell")
        else:
            if o.get("passed") and not c.get("passed") and c.get("outcome") != "n/a":
                out["new_failures"].append(cid)
                marks.append("new-failure")
            elif not o.get("passed") and c.get("passed") and o.get("outcome") != "n/a":
                out["fixed"].append(cid)
                marks.append("fixed")
            if o.get("outcome") != c.get("outcome"):
                out["changed"].append(cid)
            old_sigs = {_uid(r) for r in o.get("reports") or []}
            if any(_uid(r) not in old_sigs for r in c.get("reports") or []):
                out["new_signatures"].append(cid)
                marks.append("new-signature")
        for r in c.get("reports") or []:
            u = _uid(r)
            if u not in old_sigs_all and u not in seen_new:
                seen_new.add(u)
                out["new_run_signatures"].append(u)
        if marks:
            per_cell[cid] = marks
    ids = {c.get("id") for c in summary.get("cells") or []}
    out["gone_cells"] = sorted(i for i in old if i not in ids)
    return out


# ---------------------------------------------------------------------------
# Console excerpts

_HEADER = re.compile(r"^# console lines (\d+)-(\d+)")


def console_excerpt(path: Path, c: dict, cap: int) -> dict | None:
    """The cell's console.log as {first, total, chunks: [[line_no, [lines]]], header, omitted}.

    Line numbers are those of the boot's console log (what report
    start_line/end_line refer to); ranges around the reports are kept first.
    """
    try:
        raw = path.read_text(errors="replace")
    except OSError:
        return None
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = ""
    first = None
    if lines and lines[0].startswith("#"):
        header = lines.pop(0)
        m = _HEADER.match(header)
        if m:
            first = int(m.group(1))
    cl = c.get("console_lines")
    if isinstance(cl, list) and cl and isinstance(cl[0], int):
        first = cl[0]
    if first is None:
        first = 1
    n = len(lines)
    ranges = []
    for r in c.get("reports") or []:
        s, e = r.get("start_line"), r.get("end_line")
        if isinstance(s, int) and isinstance(e, int):
            s, e = max(0, s - first), min(n - 1, e - first)
            if s <= e:
                ranges.append((s, e))
    if n <= cap:
        keep = [(0, n - 1)] if n else []
    elif ranges:
        keep = _windows(ranges, n, cap)
    else:
        head = min(cap // 5, 60)
        keep = [(0, head - 1), (n - (cap - head), n - 1)]
    chunks = [[first + s, [ln[:LINE_CAP] for ln in lines[s:e + 1]]] for s, e in keep]
    kept = sum(e - s + 1 for s, e in keep)
    return {"first": first, "total": n, "header": header, "chunks": chunks, "omitted": n - kept}


def _merge(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _windows(ranges, n, cap):
    margin = cap
    while margin > 0:
        keep = _merge((max(0, s - margin), min(n - 1, e + margin)) for s, e in ranges)
        if sum(e - s + 1 for s, e in keep) <= cap:
            return keep
        margin //= 2
    keep, left = [], cap
    for s, e in _merge(ranges):
        if left <= 0:
            break
        e = min(e, s + left - 1)
        keep.append((s, e))
        left -= e - s + 1
    return keep


# ---------------------------------------------------------------------------
# Helpers

def _display_path(p: Path) -> str:
    p = Path(p).resolve()
    try:
        rel = p.relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(p)


def _shell_quote(s: str) -> str:
    return s if re.fullmatch(r"[A-Za-z0-9_./+:=@%-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def _fmt_s(s) -> str:
    if not isinstance(s, (int, float)):
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def _parse_time(t):
    try:
        return dt.datetime.fromisoformat(t)
    except (TypeError, ValueError):
        return None


def _num(x) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0


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


# ---------------------------------------------------------------------------
# The page

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
        self.cells = [c for c in summary.get("cells") or [] if isinstance(c, dict) and c.get("id")]
        for c in self.cells:
            c.setdefault("variant", "?")
            c.setdefault("profile", "?")
            c.setdefault("scenario", c["id"])
        self.builds = [b for b in summary.get("builds") or [] if isinstance(b, dict)]
        self.cmp = compare(summary, baseline) if baseline else None
        self.cat = {c["id"]: classify(c) for c in self.cells}
        self.index = {c["id"]: i for i, c in enumerate(self.cells)}
        self.cols = self._columns()
        self.rows = list(dict.fromkeys(c["scenario"] for c in self.cells))
        self.grid = {(c["variant"], c["profile"], c["scenario"]): c for c in self.cells}
        self.dir_display = _display_path(d)
        self.base_cells = {b.get("id"): b for b in (baseline or {}).get("cells") or [] if isinstance(b, dict)}

    def _columns(self):
        order = list(dict.fromkeys((b.get("variant"), b.get("profile")) for b in self.builds))
        present = list(dict.fromkeys((c["variant"], c["profile"]) for c in self.cells))
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
            self.changes(),
            self.matrix(),
            self.groups(),
            self.builds_section(),
            self.timing(),
            "</main>",
            "<div id=detail hidden><div id=detail-box role=dialog aria-modal=true>"
            "<button id=close title='close (Esc)'>×</button><div id=detail-body></div></div></div>",
            self.blobs(),
            f"<script>{JS}</script></body></html>",
        ]
        return "\n".join(p for p in parts if p)

    def header(self) -> str:
        s, t = self.s, self.s.get("totals") or {}
        start, end = _parse_time(s.get("started")), _parse_time(s.get("finished"))
        wall = (end - start).total_seconds() if start and end else None
        counts = {k: 0 for k, _, _ in CATEGORIES}
        for c in self.cat.values():
            counts[c] += 1
        passed = sum(1 for c in self.cells if c.get("passed"))
        failed = sum(1 for c in self.cells if not c.get("passed") and c.get("outcome") != "n/a")
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
                 ("wall time", _fmt_s(wall) if wall is not None else "—"),
                 ("exit status", s.get("exit_status") if s.get("exit_status") is not None else "—"),
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
            ids = cmp[key]
            if key == "gone_cells":
                links = ", ".join(f"<code>{esc(i)}</code>" for i in ids)
            else:
                links = ", ".join(self.cell_link(i) for i in ids)
            rows.append(f"<tr><th><span class='mark {cls}'></span>{esc(label)}</th><td class=n>{len(ids)}</td>"
                        f"<td>{links or '—'}</td></tr>")
        verdict = "no regressions" if not cmp["new_failures"] and not cmp["new_signatures"] else \
            f"{len(cmp['new_failures'])} new failure(s), {len(cmp['new_signatures'])} cell(s) with a new crash signature"
        return (f"<section id=changes><h2>Changes since baseline {esc(cmp['baseline'])}: {esc(verdict)}</h2>"
                f"<table class=list>{''.join(rows)}</table></section>")

    def cell_link(self, cid: str) -> str:
        c = self.cells[self.index[cid]] if cid in self.index else None
        cls = self.cat.get(cid, "")
        title = ""
        if c:
            title = f"{c.get('outcome')}: {c.get('why') or ''}"
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
                cat = self.cat[c["id"]]
                bad += not c.get("passed") and c.get("outcome") != "n/a"
                tds.append(self.grid_cell(c, cat))
            body.append(f"<tr data-bad={1 if bad else 0}><th class=scen>{esc(s)}</th>{''.join(tds)}"
                        f"<td class='rowsum{' bad' if bad else ''}'>{bad or ''}</td></tr>")
        foot = []
        for k, label, _ in CATEGORIES:
            counts = [sum(1 for c in self.cells if c["variant"] == v and c["profile"] == p
                          and self.cat[c["id"]] == k) for v, p in cols]
            if any(counts):
                foot.append(f"<tr class=count><th><span class='sw {k}'></span>{esc(label)}</th>" +
                            "".join(f"<td>{n or ''}</td>" for n in counts) + "<td></td></tr>")
        totals = []
        for v, p in cols:
            cs = [c for c in self.cells if c["variant"] == v and c["profile"] == p and c.get("outcome") != "n/a"]
            ok = sum(1 for c in cs if c.get("passed"))
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

    def grid_cell(self, c: dict, cat: str) -> str:
        label, text = cell_text(c, cat)
        cid = c["id"]
        verdict = "–" if cat == "na" else ("✓" if c.get("passed") else "✗")
        marks = ""
        mlist = (self.cmp or {}).get("per_cell", {}).get(cid, [])
        short = {"new-failure": "NEW FAIL", "new-signature": "NEW SIG", "fixed": "FIXED"}
        for m in mlist:
            if m in short:
                marks += f"<span class='flag m-{m}' title='{esc(m.replace('-', ' '))} vs baseline'>{short[m]}</span>"
        tip = [cid, f"outcome: {c.get('outcome')}", f"expected: {c.get('expected')}"]
        if c.get("why"):
            tip.append(str(c["why"]))
        if mlist:
            tip.append("vs baseline: " + ", ".join(mlist))
        return (f"<td class='c {cat}' data-i={self.index[cid]}><a href='#cell={urllib.parse.quote(cid, safe='')}' "
                f"title='{esc(chr(10).join(tip))}'><b>{verdict} {esc(label)}{marks}</b>"
                f"<span class=t>{esc(text)}</span></a></td>")

    # -- crash groups ------------------------------------------------------------
    def groups(self) -> str:
        groups: dict[str, dict] = {}
        order = sorted(self.cells, key=lambda c: (c.get("started") or "", self.index[c["id"]]))
        for c in order:
            for r in c.get("reports") or []:
                u = _uid(r)
                g = groups.setdefault(u, {"title": r.get("title"), "kind": r.get("kind"), "cells": [],
                                          "expected": 0, "unexpected": 0, "first": c, "sig": r.get("signature"),
                                          "frame": r.get("frame"), "module": r.get("module")})
                if c["id"] not in g["cells"]:
                    g["cells"].append(c["id"])
                g["expected" if r.get("expected") else "unexpected"] += 1
        if not groups:
            return "<section id=groups><h2>Crash groups</h2><p class=muted>No kernel reports in this run.</p></section>"
        new = set(self.cmp["new_run_signatures"]) if self.cmp else set()
        rows = []
        for u, g in sorted(groups.items(), key=lambda kv: (-kv[1]["unexpected"], -len(kv[1]["cells"]))):
            status = "unexpected" if g["unexpected"] and not g["expected"] else \
                ("expected" if not g["unexpected"] else "mixed")
            first = g["first"]
            first_txt = self.cell_link(first["id"])
            if first.get("started"):
                first_txt += f" <small>{esc(first['started'])}</small>"
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

    # -- builds ------------------------------------------------------------
    def builds_section(self) -> str:
        if not self.builds:
            return "<section id=builds><h2>Builds</h2><p class=muted>No build facts recorded.</p></section>"
        inputs = self.s.get("inputs") or {}
        profiles = inputs.get("profiles") or {}
        out = ["<section id=builds><h2>Builds</h2>"]
        for b in self.builds:
            v, p = b.get("variant"), b.get("profile")
            src = b.get("source") or {}
            state = "built in this run" if b.get("built") else "cached: no make started in this run"
            if b.get("error"):
                state = "BUILD FAILED"
            facts = [("kernel", b.get("release")), ("source", " ".join(str(src.get(k)) for k in
                                                                      ("name", "kind", "version") if src.get(k))),
                     ("base commit", src.get("base_commit")), ("tree", src.get("tree_id")),
                     ("origin", src.get("origin")), ("compiler", b.get("compiler")),
                     ("build key", b.get("key")), ("config sha256", b.get("config_sha256")),
                     ("build", (_fmt_s(b.get("duration_s")) + " — " if b.get("built") else "") + state),
                     ("blind to", ", ".join(b.get("blind") or []) or None)]
            feats = b.get("features") or {}
            if feats:
                facts.append(("features", " ".join(("" if on else "no-") + k for k, on in sorted(feats.items()))))
            prof = profiles.get(p) or {}
            if prof:
                frag = ", ".join(f"{f} <code title='{esc(h)}'>{esc(str(h)[:12])}</code>"
                                 for f, h in (prof.get("fragments") or {}).items())
                prof_html = f"{esc(prof.get('base'))} + {frag or 'no fragments'}"
            else:
                prof_html = esc(p)
            dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(val)}</dd>" for k, val in facts if val)
            dl += f"<dt>profile</dt><dd>{prof_html}</dd>"
            err = f"<pre class=err>{esc(b['error'])}</pre>" if b.get("error") else ""
            canary = b.get("canary")
            if canary:
                crow = "".join(f"<tr class={'ok' if r.get('seen') else 'bad'}><td>{esc(r.get('class'))}</td>"
                               f"<td><code>{esc(r.get('trigger'))}</code></td>"
                               f"<td>{'seen' if r.get('seen') else 'NOT SEEN'}</td><td>{esc(r.get('title'))}</td>"
                               f"<td>{esc(r.get('detail'))}</td></tr>" for r in canary)
                ctab = ("<h4>Canary</h4><table class='list small'><thead><tr><th>class</th><th>trigger</th>"
                        f"<th>seen</th><th>title</th><th>detail</th></tr></thead><tbody>{crow}</tbody></table>")
            elif canary is None:
                ctab = "<h4>Canary</h4><p class=muted>not run for this build</p>"
            else:
                ctab = "<h4>Canary</h4><p class=muted>could not run (every report class treated as blind)</p>"
            patches = b.get("patches") or []
            if patches:
                prow = "".join(f"<tr><td>{i + 1}</td><td>{esc(pt.get('series'))}</td><td>{esc(pt.get('file'))}</td>"
                               f"<td>{esc(pt.get('subject'))}</td><td><code title='{esc(pt.get('sha256'))}'>"
                               f"{esc(str(pt.get('sha256') or '')[:12])}</code></td></tr>"
                               for i, pt in enumerate(patches))
                ptab = (f"<h4>Patches ({len(patches)})</h4><table class='list small'><thead><tr><th>#</th>"
                        "<th>series</th><th>file</th><th>subject</th><th>sha256</th></tr></thead>"
                        f"<tbody>{prow}</tbody></table>")
            else:
                ptab = "<h4>Patches</h4><p class=muted>none (unpatched source)</p>"
            opts = b.get("options") or {}
            if opts:
                orow = "".join(f"<span class='opt o-{esc(str(val))[:1]}'>{esc(k)}={esc(val)}</span>"
                               for k, val in opts.items())
                otab = f"<h4>Options that matter</h4><div class=opts>{orow}</div>"
            else:
                otab = ""
            ncells = [c for c in self.cells if c["variant"] == v and c["profile"] == p]
            nbad = sum(1 for c in ncells if not c.get("passed") and c.get("outcome") != "n/a")
            out.append(f"<details class=build id='build-{esc(v)}-{esc(p)}' {'open' if len(self.builds) <= 4 else ''}>"
                       f"<summary><b>{esc(v)}</b> / {esc(p)} — {esc(b.get('release') or 'no kernel')} · "
                       f"{len(ncells)} cells, {nbad} failed{' · <span class=bad>' + esc(state) + '</span>' if b.get('error') else ''}"
                       f"</summary><dl>{dl}</dl>{err}{ctab}{ptab}{otab}</details>")
        series = inputs.get("series") or {}
        if series:
            out.append("<details class=build><summary>Inputs: patch series</summary><pre>" +
                       esc(json.dumps(series, indent=1, default=str)) + "</pre></details>")
        guest = inputs.get("guest")
        if guest:
            out.append("<details class=build><summary>Inputs: guest</summary><pre>" +
                       esc(json.dumps(guest, indent=1, default=str)) + "</pre></details>")
        out.append("</section>")
        return "".join(out)

    # -- timing ------------------------------------------------------------
    def timing(self) -> str:
        build_t = {(b.get("variant"), b.get("profile")): _num(b.get("duration_s")) if b.get("built") else 0.0
                   for b in self.builds}
        boots = self.boot_times()
        have_boots = bool(boots)
        per_col = {}
        for col in self.cols:
            per_col[col] = {"build": build_t.get(col, 0.0), "boot": 0.0, "steps": 0.0, "other": 0.0}
        for col, t in boots.values():
            per_col.setdefault(col, {"build": 0.0, "boot": 0.0, "steps": 0.0, "other": 0.0})["boot"] += t
        for c in self.cells:
            col = (c["variant"], c["profile"])
            steps = sum(_num(st.get("duration_s")) for st in c.get("steps") or [])
            pc = per_col.setdefault(col, {"build": 0.0, "boot": 0.0, "steps": 0.0, "other": 0.0})
            pc["steps"] += steps
            pc["other"] += max(0.0, _num(c.get("duration_s")) - steps)
        tot = {k: sum(pc[k] for pc in per_col.values()) for k in ("build", "boot", "steps", "other")}
        names = {"build": "kernel builds", "boot": "guest boots", "steps": "scenario steps",
                 "other": "other cell time (checks, taint, restarts)"}
        grand = sum(tot.values()) or 1.0
        stack = "".join(f"<div class='seg t-{k}' style='width:{100 * v / grand:.2f}%' "
                        f"title='{esc(names[k])}: {_fmt_s(v)}'></div>" for k, v in tot.items() if v > 0)
        legend = "".join(f"<span><span class='sw t-{k}'></span>{esc(names[k])} <b>{_fmt_s(v)}</b> "
                         f"({100 * v / grand:.0f}%)</span>" for k, v in tot.items())
        peak = max((sum(pc.values()) for pc in per_col.values()), default=0.0) or 1.0
        rows = []
        for (v, p), pc in per_col.items():
            segs = "".join(f"<div class='seg t-{k}' style='width:{100 * val / peak:.2f}%' "
                           f"title='{esc(names[k])}: {_fmt_s(val)}'></div>" for k, val in pc.items() if val > 0)
            rows.append(f"<tr><th>{esc(v)}/{esc(p)}</th><td class=barcell><div class=bar>{segs}</div></td>"
                        f"<td class=n>{_fmt_s(sum(pc.values()))}</td></tr>")
        slow = sorted(self.cells, key=lambda c: -_num(c.get("duration_s")))[:12]
        smax = max((_num(c.get("duration_s")) for c in slow), default=0.0) or 1.0
        srows = []
        for c in slow:
            segs = []
            for i, st in enumerate(c.get("steps") or []):
                w = 100 * _num(st.get("duration_s")) / smax
                if w > 0:
                    segs.append(f"<div class='seg s{i % 6}' style='width:{w:.2f}%' title='{esc(st.get('name'))}: "
                                f"{_fmt_s(st.get('duration_s'))}'></div>")
            rest = _num(c.get("duration_s")) - sum(_num(st.get("duration_s")) for st in c.get("steps") or [])
            if rest > 0:
                segs.append(f"<div class='seg t-other' style='width:{100 * rest / smax:.2f}%' "
                            f"title='outside steps: {_fmt_s(rest)}'></div>")
            srows.append(f"<tr><th>{self.cell_link(c['id'])}</th><td class=barcell><div class=bar>{''.join(segs)}"
                         f"</div></td><td class=n>{_fmt_s(c.get('duration_s'))}</td></tr>")
        note = "" if have_boots else \
            "<p class=muted>Boot times are not recorded (no <code>boot_s</code> in summary.json, no boot console " \
            "log with host time stamps): boots count as cell time.</p>"
        return (f"<section id=timing><h2>Where the time went <small>summed over workers, {_fmt_s(grand if grand > 1 else sum(tot.values()))}"
                f"</small></h2><div class='bar big'>{stack}</div><div class=legend>{legend}</div>{note}"
                f"<h3>Per build</h3><table class=chart>{''.join(rows)}</table>"
                f"<h3>Slowest cells <small>(segments: steps)</small></h3><table class=chart>{''.join(srows)}</table>"
                f"</section>")

    def boot_times(self) -> dict[str, tuple[tuple, float]]:
        """Seconds from QEMU start to the first scenario line, per boot: the
        cells' ``boot_s`` when recorded, else read from the boot's console
        log (every line stamped ``[host +seconds]`` by the harness)."""
        boots: dict[str, tuple[tuple, float]] = {}
        first_line: dict[str, tuple[tuple, int]] = {}
        for c in self.cells:
            b = c.get("boot")
            if not b:
                continue
            col = (c["variant"], c["profile"])
            if isinstance(c.get("boot_s"), (int, float)):
                boots[b] = (col, float(c["boot_s"]))
                continue
            cl = c.get("console_lines")
            if isinstance(cl, list) and cl and isinstance(cl[0], int):
                if b not in first_line or cl[0] < first_line[b][1]:
                    first_line[b] = (col, cl[0])
        for b, (col, first) in first_line.items():
            if b in boots or first > 200_000:
                continue
            path = Path(b) if Path(b).is_absolute() else self.d / b
            try:
                with open(path, errors="replace") as f:
                    for no, line in enumerate(f, 1):
                        if no >= first:
                            m = re.match(r"\[host \+([0-9.]+)\]", line)
                            if m:
                                boots[b] = (col, float(m.group(1)))
                            break
            except OSError:
                continue
        return boots

    # -- per-cell detail blobs ------------------------------------------------
    def blobs(self) -> str:
        bad = [c for c in self.cells if c.get("reports") or not c.get("passed")]
        caps = {c["id"]: CONSOLE_CAP_BAD if (c.get("reports") or not c.get("passed")) else CONSOLE_CAP_OK
                for c in self.cells}
        if len(bad) * CONSOLE_CAP_BAD + (len(self.cells) - len(bad)) * CONSOLE_CAP_OK > CONSOLE_BUDGET:
            for c in self.cells:
                if caps[c["id"]] == CONSOLE_CAP_OK:
                    caps[c["id"]] = CONSOLE_CAP_SQUEEZED
            left = CONSOLE_BUDGET - (len(self.cells) - len(bad)) * CONSOLE_CAP_SQUEEZED
            per_bad = max(200, left // max(1, len(bad)))
            for c in bad:
                caps[c["id"]] = min(CONSOLE_CAP_BAD, per_bad)
        meta = {"cells": [c["id"] for c in self.cells], "labels": CAT_LABEL, "run": self.s.get("run_id"),
                "title": f"Run {self.s.get('run_id') or self.d.name} — kernel test matrix",
                "baseline": (self.cmp or {}).get("baseline")}
        out = [f"<script type=application/json id=meta>{_json_script(meta)}</script>"]
        for i, c in enumerate(self.cells):
            out.append(f"<script type=application/json id=d{i}>{_json_script(self.detail(c, caps[c['id']]))}</script>")
        return "\n".join(out)

    def detail(self, c: dict, cap: int) -> dict:
        from harness.results import safe_name
        rel = c.get("dir") or f"cells/{safe_name(c['id'])}"
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
        d = {k: c[k] for k in keys if k in c}
        for st in d.get("steps") or []:
            if isinstance(st, dict) and isinstance(st.get("output"), str) and len(st["output"]) > 20000:
                st["output"] = st["output"][:20000] + "\n… (cut; see the cell folder)"
        d.update({"cat": self.cat[c["id"]], "dir": rel, "files": files, "qemu": qemu, "console": console,
                  "repro": f"harness repro {_shell_quote(shown)}",
                  "repro_sh": f"sh {_shell_quote(shown + '/repro.sh')}",
                  "marks": (self.cmp or {}).get("per_cell", {}).get(c["id"], [])})
        if self.base:
            o = self.base_cells.get(c["id"])
            if o is not None:
                d["baseline_cell"] = {"outcome": o.get("outcome"), "passed": o.get("passed"),
                                      "titles": [r.get("title") for r in o.get("reports") or []]}
        return d


# ---------------------------------------------------------------------------
# CLI

def cmd_report(args) -> int:
    out = write_report(Path(args.results_dir), baseline=Path(args.baseline) if args.baseline else None)
    print(f"wrote {_display_path(out)}")
    if args.open:
        import webbrowser
        webbrowser.open(out.as_uri())
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the static results page (index.html) of a run",
                              description="Write RESULTS_DIR/index.html: the matrix grid, each cell's "
                                          "detail, crash groups, build facts and timing, in one "
                                          "self-contained page (no network needed).")
    p.add_argument("results_dir", nargs="?", default="results/latest", metavar="RESULTS_DIR",
                   help="a run's results folder (default: results/latest)")
    p.add_argument("--baseline", metavar="OTHER", help="an earlier run's results folder to compare with")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=cmd_report)


# ---------------------------------------------------------------------------
# Inline assets

CSS = r"""
:root{--ok:#2e9e4f;--okbg:#e3f4e8;--x:#2b6cb0;--xbg:#dcebfa;--crash:#c62828;--crashbg:#fde0dc;
--fail:#d2691e;--failbg:#fdebd9;--dead:#6a1b9a;--deadbg:#eadcf3;--err:#6d5d00;--errbg:#f6eeb4;
--na:#888;--nabg:#f0f0f0;--flaky:#b7791f;--flakybg:#fff4d6;--line:#d8dde3}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#fafbfc}
header{background:#1f2a37;color:#eef2f6;padding:12px 20px}
header h1{margin:4px 0 6px;font-size:21px}
header nav{float:right}header nav a{color:#b9d4f1}
.verdict{display:inline-block;padding:1px 9px;border-radius:4px;font-size:15px;vertical-align:2px}
.verdict.pass{background:var(--ok)}.verdict.fail{background:var(--crash)}
.facts span{margin-right:16px;font-size:12.5px;color:#c9d3de}.facts i{color:#8fa1b3;font-style:normal}
.totals{margin-top:6px}.chip{display:inline-block;margin-left:6px;padding:0 7px;border-radius:9px;font-size:12px;color:#1c2430}
.banner{margin-top:8px;background:#c62828;color:#fff;padding:6px 10px;border-radius:4px;font-weight:bold}
main{padding:6px 20px 40px}
section{margin:18px 0}
h2{font-size:18px;margin:10px 0 8px;border-bottom:1px solid var(--line);padding-bottom:3px}
h2 small,h3 small{font-weight:normal;color:#667}
h3{font-size:15px;margin:14px 0 6px}h4{margin:12px 0 4px;font-size:13.5px}
code,pre{font:12px/1.35 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.muted{color:#778}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin:6px 0;font-size:12.5px}
.legend .ctl{margin-left:auto}
.sw{display:inline-block;width:13px;height:13px;border-radius:3px;vertical-align:-2px;margin-right:4px;border:1px solid rgba(0,0,0,.25)}
.gridwrap{overflow:auto;max-width:100%}
#grid{border-collapse:separate;border-spacing:3px}
#grid th{font-size:12.5px;font-weight:600;text-align:center;padding:2px 4px;white-space:nowrap}
#grid th.var{background:#e6ebf1;border-radius:3px}#grid th.prof{font-weight:normal;color:#556}
#grid th.scen,#grid tfoot th{position:sticky;left:0;z-index:1;background:#fafbfc}
#grid th.scen{text-align:right;font-family:ui-monospace,monospace;font-weight:normal;font-size:12px;max-width:340px;overflow:hidden;text-overflow:ellipsis}
#grid th.corner{font-weight:normal;color:#778;font-size:11px;text-align:right}
td.c{width:150px;min-width:130px;max-width:190px;height:44px;padding:0;border-radius:4px;border:1px solid rgba(0,0,0,.12);vertical-align:top;position:relative}
td.c a{display:block;height:100%;padding:3px 6px;color:inherit;text-decoration:none;overflow:hidden}
td.c:hover{outline:2px solid #1f2a37;cursor:pointer}
td.c b{display:block;font-size:11.5px;white-space:nowrap}
td.c .t{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden;font-size:11px;line-height:1.25;word-break:break-word}
td.none{color:#bbb;text-align:center}
.ok{background:var(--okbg)}td.ok b,.st.ok{color:var(--ok)}.sw.ok{background:var(--ok)}
.xcrash{background:var(--xbg)}td.xcrash b{color:var(--x)}.sw.xcrash{background:var(--x)}
.crash{background:var(--crashbg)}td.crash{border:2px solid var(--crash)}td.crash b{color:var(--crash)}.sw.crash{background:var(--crash)}
.fail{background:var(--failbg)}td.fail{border:2px solid var(--fail)}td.fail b{color:var(--fail)}.sw.fail{background:var(--fail)}
.dead{background:var(--deadbg)}td.dead{border:2px solid var(--dead)}td.dead b{color:var(--dead)}.sw.dead{background:var(--dead)}
.error{background:var(--errbg)}td.error{background:repeating-linear-gradient(135deg,var(--errbg) 0 8px,#efe39a 8px 16px)}td.error b{color:var(--err)}.sw.error{background:#d4c13a}
.na{background:var(--nabg)}td.na{color:var(--na)}.sw.na{background:#ccc}
.flaky{background:var(--flakybg)}td.flaky{border:2px dashed var(--flaky)}td.flaky b{color:var(--flaky)}.sw.flaky{background:var(--flaky)}
td.rowsum{font-weight:bold;color:var(--crash);text-align:center;font-size:12px}
tfoot tr.count th{text-align:right;font-weight:normal;font-size:12px}
tfoot tr.count td{text-align:center;font-size:12px;color:#445}
tfoot tr.tot td{font-weight:bold}tfoot td.good{color:var(--ok)}tfoot td.bad{color:var(--crash)}
.mark{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:0}
.flag{display:inline-block;margin-left:4px;padding:0 3px;border-radius:3px;font-size:9px;line-height:13px;color:#fff;vertical-align:1px}
.m-new-failure{background:#ff1744}.m-new-signature{background:#aa00ff}.m-fixed{background:#00c853}
body.onlybad #grid tbody tr[data-bad="0"]{display:none}
table.list{border-collapse:collapse;width:100%;background:#fff}
table.list th,table.list td{border:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top}
table.list thead th{background:#eef1f5;font-size:12.5px}
table.list.small{font-size:12.5px;width:auto}
td.n{text-align:right;white-space:nowrap}
a.cl{font-family:ui-monospace,monospace;font-size:12px;padding:0 3px;border-radius:3px;text-decoration:none;color:#1c2430;white-space:nowrap;line-height:1.7}
.st.unexpected{color:var(--crash);font-weight:bold}.st.expected{color:var(--x);font-weight:bold}.st.mixed{color:var(--fail);font-weight:bold}
.new{background:#aa00ff;color:#fff;border-radius:3px;padding:0 4px;font-size:11px;font-weight:bold}
details.build{background:#fff;border:1px solid var(--line);border-radius:5px;margin:8px 0;padding:6px 10px}
details.build summary{cursor:pointer}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0;font-size:12.5px}
dt{color:#667}dd{margin:0;word-break:break-all}
tr.ok td{background:var(--okbg)}tr.bad td{background:var(--crashbg)}
.bad{color:var(--crash);font-weight:bold}
.opts{display:flex;flex-wrap:wrap;gap:4px}.opt{font:11.5px ui-monospace,monospace;padding:1px 5px;border-radius:3px;background:#eee}
.opt.o-y{background:var(--okbg)}.opt.o-m{background:var(--xbg)}.opt.o-n{background:#f3f3f3;color:#888}
pre.err{background:var(--crashbg);padding:6px;white-space:pre-wrap}
.bar{display:flex;height:16px;background:#eef1f5;border-radius:3px;overflow:hidden;min-width:300px}
.bar.big{height:26px;max-width:900px}
.seg{height:100%;border-right:1px solid rgba(255,255,255,.6)}
.t-build,.sw.t-build{background:#5a67d8}.t-boot,.sw.t-boot{background:#38b2ac}.t-steps,.sw.t-steps{background:#ed8936}.t-other,.sw.t-other{background:#a0aec0}
.s0{background:#ed8936}.s1{background:#dd6b20}.s2{background:#f6ad55}.s3{background:#c05621}.s4{background:#fbd38d}.s5{background:#9c4221}
table.chart{border-collapse:collapse}table.chart th{text-align:right;font-weight:normal;padding:2px 8px;font-size:12.5px;white-space:nowrap}
td.barcell{width:600px}
#detail{position:fixed;inset:0;background:rgba(20,28,38,.45);z-index:10}
#detail-box{position:absolute;top:0;right:0;bottom:0;width:min(1100px,94vw);background:#fff;overflow:auto;padding:14px 20px 40px;box-shadow:-4px 0 18px rgba(0,0,0,.3)}
#close{position:sticky;top:0;float:right;font-size:22px;border:0;background:#eee;border-radius:4px;width:34px;height:34px;cursor:pointer;z-index:2}
#detail h2{margin-top:0}.tag{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:bold;margin-right:6px;border:1px solid rgba(0,0,0,.15)}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:13px;margin:6px 0}
.kv>:nth-child(odd){color:#667}
.cmd{display:flex;gap:6px;align-items:flex-start;margin:4px 0}
.cmd pre{flex:1;margin:0;background:#1f2a37;color:#e6edf3;padding:6px 8px;border-radius:4px;white-space:pre-wrap;word-break:break-all}
.cmd button,.rbtn{cursor:pointer;border:1px solid #99a;background:#f3f5f8;border-radius:4px;padding:3px 9px;font-size:12px}
.report{border:1px solid var(--line);border-left:5px solid var(--crash);border-radius:4px;padding:6px 10px;margin:8px 0}
.report.exp{border-left-color:var(--x)}
.report h4{margin:2px 0 4px;font-size:14px}
pre.rt{background:#f7f8fa;padding:6px 8px;max-height:420px;overflow:auto;border-radius:3px}
pre.rt .fn{color:#8b1a9b;font-weight:bold}pre.rt .loc{color:#0b6e4f;background:#e3f4e8;border-radius:2px}
.steps td.bad{color:var(--crash)}.steps details pre{max-height:260px;overflow:auto;background:#f7f8fa;padding:4px;margin:2px 0}
#console{background:#0f1720;color:#d0d7de;padding:6px 0;border-radius:4px;max-height:560px;overflow:auto;white-space:pre}
#console div{padding:0 8px 0 0}#console .no{display:inline-block;width:62px;text-align:right;color:#5c6b7a;margin-right:10px;user-select:none}
#console .hl{background:#5a1e1e;color:#fff}#console .hl .no{color:#ffb4b4}#console .hl.exp{background:#173a5e}
#console .host{color:#5c6b7a}#console .gap{color:#8b98a5;font-style:italic;background:#1b2530}
#console .step{color:#f6c768}
"""

JS = r"""
(function(){
var meta=JSON.parse(document.getElementById('meta').textContent);
var idx={};meta.cells.forEach(function(id,i){idx[id]=i;});
function E(s){return String(s==null?'':s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function fmt(s){if(typeof s!=='number')return '–';return s<60?s.toFixed(1)+' s':Math.floor(s/60)+' min '+Math.round(s%60)+' s';}
var FRAME=/([A-Za-z_][\w.]*)(\+0x[0-9a-f]+\/0x[0-9a-f]+)((?: \[[\w-]+(?: [0-9a-f]+)?\])?)((?: \S+\.(?:c|h|S|rs|cc|cpp):\d+(?::\d+)?)?)/g;
function frames(t){return E(t).replace(FRAME,function(m,fn,off,mod,loc){return '<span class=fn>'+fn+'</span>'+off+mod+(loc?' <span class=loc>'+loc.trim()+'</span>':'');});}
function cmd(label,text){return '<div class=cmd><pre>'+E(text)+'</pre><button data-copy="'+E(text)+'">copy</button></div>';}
function tag(cat,txt){return '<span class="tag '+cat+'">'+E(txt)+'</span>';}
function render(d){
 var h=[],i;
 h.push('<h2>'+E(d.scenario)+' <small>on '+E(d.variant)+'/'+E(d.profile)+'</small></h2>');
 h.push(tag(d.cat,meta.labels[d.cat])+(d.passed?tag('ok','as expected ✓'):(d.cat==='na'?'':tag('crash','FAILED ✗'))));
 (d.marks||[]).forEach(function(m){h.push('<span class="mark m-'+m+'"></span>'+E(m.replace(/-/g,' '))+' ');});
 var kv=[['cell',d.id],['outcome',d.outcome],['expected',d.expected],['why',d.why],['detail',d.detail],
  ['attempts',d.attempts+(d.flaky?' (flaky: first attempt '+(d.first_attempt?d.first_attempt.outcome+' — '+(d.first_attempt.why||''):'failed')+')':'')],
  ['duration',fmt(d.duration_s)],['boot',d.boot?d.boot+(d.console_lines?' lines '+d.console_lines.join('–'):'')+(typeof d.boot_s==='number'?' ('+fmt(d.boot_s)+' to boot)':''):''],
  ['kernel',d.build?(d.build.release||'')+(d.build.key?' · key '+String(d.build.key).slice(0,16):''):''],['tainted',d.tainted]];
 if(d.baseline_cell)kv.push(['baseline '+meta.baseline,d.baseline_cell.outcome+(d.baseline_cell.passed?' (as expected)':' (failed)')+(d.baseline_cell.titles.length?': '+d.baseline_cell.titles.join('; '):'')]);
 h.push('<div class=kv>');kv.forEach(function(p){if(p[1]!==undefined&&p[1]!==null&&p[1]!=='')h.push('<div>'+E(p[0])+'</div><div>'+E(p[1])+'</div>');});h.push('</div>');
 h.push('<h3>Reproduce</h3>'+cmd('repro',d.repro)+cmd('sh',d.repro_sh));
 if(d.qemu)h.push('<h3>QEMU command line</h3>'+cmd('qemu',d.qemu));
 var steps=d.steps||[];
 if(steps.length){h.push('<h3>Steps</h3><table class="list small steps"><thead><tr><th>step</th><th>command</th><th>exit</th><th>time</th><th>note / output</th></tr></thead><tbody>');
  steps.forEach(function(s){var bad=s.ok===false;
   var out=s.output?'<details><summary>output ('+s.output.split('\n').length+' lines)</summary><pre>'+E(s.output)+'</pre></details>':'';
   var sub=(s.subtests&&s.subtests.length)?'<details><summary>'+s.subtests.length+' subtests</summary><pre>'+E(s.subtests.map(function(t){return (t.name||'')+': '+(t.result||'');}).join('\n'))+'</pre></details>':'';
   h.push('<tr><td>'+(bad?'✗ ':'✓ ')+E(s.name)+'</td><td><code>'+E(s.command)+'</code></td><td class="'+(bad?'bad':'')+'">'+E(s.exit_status)+(s.expected_exit!=null&&s.expected_exit!==0?' (want '+E(s.expected_exit)+')':'')+'</td><td class=n>'+fmt(s.duration_s)+'</td><td>'+E(s.note||'')+out+sub+'</td></tr>');});
  h.push('</tbody></table>');}
 var reps=d.reports||[];
 h.push('<h3>Kernel reports ('+reps.length+')</h3>');
 if(!reps.length)h.push('<p class=muted>none</p>');
 reps.forEach(function(r,k){
  h.push('<div class="report'+(r.expected?' exp':'')+'"><h4>'+(r.expected?tag('xcrash','expected'):tag('crash','unexpected'))+E(r.title)+'</h4><div class=kv>');
  [['kind',r.kind],['frame',r.frame],['location',r.location],['module',r.module],['last unloaded',r.last_unloaded],['step',r.step],['console lines',r.start_line!=null?r.start_line+'–'+r.end_line:''],['signature',r.signature],['corrupted',r.corrupted?'yes (report text may be incomplete)':'']].forEach(function(p){if(p[1]!=null&&p[1]!=='')h.push('<div>'+E(p[0])+'</div><div>'+E(p[1])+'</div>');});
  h.push('</div>'+(d.console&&r.start_line!=null?'<button class=rbtn data-line="'+r.start_line+'">show in console</button>':'')+'<pre class=rt>'+frames(r.text||'')+'</pre></div>');});
 h.push('<h3>Console</h3>');
 var c=d.console;
 if(c){
  var hl=reps.map(function(r){return [r.start_line,r.end_line,!!r.expected];});
  h.push('<p class=muted>'+E(c.header||'')+(c.omitted?' — '+c.omitted+' of '+c.total+' lines left out here (full log: <a href="'+E(d.dir)+'/console.log">console.log</a>)':'')+'</p><div id=console>');
  var prev=null;
  c.chunks.forEach(function(ch){var no=ch[0];
   if(prev!==null&&no>prev)h.push('<div class=gap><span class=no></span>… '+(no-prev)+' lines …</div>');
   else if(prev===null&&no>c.first)h.push('<div class=gap><span class=no></span>… '+(no-c.first)+' lines …</div>');
   ch[1].forEach(function(line){var cls='',j;
    for(j=0;j<hl.length;j++){if(no>=hl[j][0]&&no<=hl[j][1]){cls='hl'+(hl[j][2]?' exp':'');break;}}
    var t=E(line).replace(/^(\[host [^\]]*\] ?)/,'<span class=host>$1</span>');
    if(line.indexOf('HARNESS-STEP')>=0)t='<span class=step>'+t+'</span>';
    h.push('<div id=L'+no+(cls?' class="'+cls+'"':'')+'><span class=no>'+no+'</span>'+t+'</div>');no++;});
   prev=no;});
  if(prev!==null&&prev<c.first+c.total)h.push('<div class=gap><span class=no></span>… '+(c.first+c.total-prev)+' lines …</div>');
  h.push('</div>');
 } else h.push('<p class=muted>no console log recorded for this cell</p>');
 if(d.files&&d.files.length)h.push('<h3>Files</h3><p>'+d.files.map(function(f){return '<a href="'+E(d.dir)+'/'+E(f)+'">'+E(f)+'</a>';}).join(' · ')+'</p>');
 return h.join('');
}
var box=document.getElementById('detail'),body=document.getElementById('detail-body');
function show(id){var i=idx[id];if(i===undefined){box.hidden=true;return;}
 var d=JSON.parse(document.getElementById('d'+i).textContent);
 body.innerHTML=render(d);box.hidden=false;document.getElementById('detail-box').scrollTop=0;
 var first=(d.reports||[])[0];var con=document.getElementById('console');
 if(first&&con){var el=document.getElementById('L'+first.start_line);if(el)con.scrollTop=Math.max(0,el.offsetTop-con.offsetTop-60);}
 document.title=id+' — '+meta.run;}
function fromHash(){var m=/^#cell=(.*)$/.exec(location.hash);if(m)show(decodeURIComponent(m[1]));else box.hidden=true;}
window.addEventListener('hashchange',fromHash);
function close(){if(/^#cell=/.test(location.hash)){try{history.pushState('',document.title,location.pathname+location.search);}catch(e){location.hash='';}}box.hidden=true;document.title=meta.title;}
document.getElementById('close').onclick=close;
box.addEventListener('click',function(e){if(e.target===box)close();});
document.addEventListener('keydown',function(e){if(e.key==='Escape'&&!box.hidden)close();});
function copy(text,btn){function done(){btn.textContent='copied ✓';setTimeout(function(){btn.textContent='copy';},1500);}
 if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,fallback);}else fallback();
 function fallback(){var ta=document.createElement('textarea');ta.value=text;document.body.appendChild(ta);ta.select();try{document.execCommand('copy');done();}catch(e){}document.body.removeChild(ta);}}
body.addEventListener('click',function(e){var b=e.target.closest('button');if(!b)return;
 if(b.dataset.copy!==undefined)copy(b.dataset.copy,b);
 if(b.dataset.line){var el=document.getElementById('L'+b.dataset.line),con=document.getElementById('console');if(el&&con){con.scrollIntoView();con.scrollTop=Math.max(0,el.offsetTop-con.offsetTop-40);}}});
var ob=document.getElementById('onlybad');if(ob)ob.onchange=function(){document.body.classList.toggle('onlybad',ob.checked);};
var fl=document.getElementById('filter');if(fl)fl.oninput=function(){var q=fl.value.toLowerCase();
 Array.prototype.forEach.call(document.querySelectorAll('#grid tbody tr'),function(tr){tr.style.display=tr.firstChild.textContent.toLowerCase().indexOf(q)>=0?'':'none';});};
fromHash();
document.documentElement.setAttribute('data-render-ms',performance.now().toFixed(1));
window.addEventListener('load',function(){document.documentElement.setAttribute('data-load-ms',performance.now().toFixed(1));});
})();
"""
