"""Small pieces of the results page: escaping, formatting, and how a cell is
shown (its grid category, its main report, the short text inside a grid cell)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

from harness.model import CellResult, Outcome, ReportRef

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


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def json_script(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).replace("<", "\\u003c")


def classify(c: CellResult) -> str:
    """The cell's grid category: what happened measured against what was expected."""
    if c.outcome == Outcome.NA:
        # an n/a the variant did not expect is a failure (a feature went missing)
        return "na" if c.passed else "fail"
    if c.outcome == Outcome.ERROR:
        return "error"
    if c.flaky:
        return "flaky"
    if c.passed:
        return "ok" if c.outcome == Outcome.CLEAN and not c.reports else "xcrash"
    if c.died:
        return "dead"
    if c.unexpected_reports:
        return "crash"
    return "fail"


def main_report(c: CellResult) -> ReportRef | None:
    if not c.reports:
        return None
    if not c.passed and c.unexpected_reports:
        return c.unexpected_reports[0]
    expected = [r for r in c.reports if r.expected]
    return (expected or c.reports)[0]


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


def cell_text(c: CellResult, cat: str) -> tuple[str, str]:
    """(outcome label, short text) shown inside a grid cell."""
    outcome = str(c.outcome)
    r = main_report(c)
    if cat == "flaky" and r is None:
        first = c.first_attempt if isinstance(c.first_attempt, dict) else {}
        text = f"passed on attempt {c.attempts or '?'}" + (f"; first: {first['outcome']}"
                                                           if first.get("outcome") else "")
        return f"flaky ({outcome})", text
    label = {"ok": "clean", "xcrash": "expected " + ("crash" if outcome in ("report", "clean") else outcome),
             "crash": "CRASH", "fail": "FAILED", "dead": outcome.upper(), "error": "ERROR", "na": "n/a",
             "flaky": f"flaky ({outcome})"}[cat]
    if r is not None:
        text = short_title(r.title or r.kind)
    elif cat == "ok":
        text = ""
    else:
        text = (c.why or c.detail).strip().split("\n")[0]
        text = text if len(text) <= 90 else text[:87] + "…"
    return label, text


def display_path(p: Path) -> str:
    p = Path(p).resolve()
    try:
        rel = p.relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(p)


def shell_quote(s: str) -> str:
    return s if re.fullmatch(r"[A-Za-z0-9_./+:=@%-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def fmt_s(s) -> str:
    if not isinstance(s, (int, float)):
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def parse_time(t):
    try:
        return dt.datetime.fromisoformat(t)
    except (TypeError, ValueError):
        return None


def num(x) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0
