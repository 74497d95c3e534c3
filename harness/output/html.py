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

from importlib import resources

from harness.core.errors import InputError
from harness.core.util import read_json, write_atomic
from harness.output.results import safe_name

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
        return "na" if passed else "fail"     # an n/a the variant does not expect fails
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
            if o.get("passed") and not c.get("passed"):
                out["new_failures"].append(cid)
                marks.append("new-failure")
            elif not o.get("passed") and c.get("passed"):
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
        failed = sum(1 for c in self.cells if not c.get("passed"))
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
                bad += not c.get("passed")
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
            cs = [c for c in self.cells if c["variant"] == v and c["profile"] == p
                  and (c.get("outcome") != "n/a" or not c.get("passed"))]
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
            nbad = sum(1 for c in ncells if not c.get("passed"))
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


def _asset(name: str) -> str:
    return resources.files("harness.output").joinpath("assets", name).read_text(encoding="utf-8")


# The page's style and script: package data files, inlined into every page
CSS = _asset("report.css")
JS = _asset("report.js")
