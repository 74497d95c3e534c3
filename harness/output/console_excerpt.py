"""Excerpts of a cell's console log for the page: whole when short, else the
lines around its reports (or head and tail), within a line budget."""

from __future__ import annotations

import re
from pathlib import Path

from harness.model import CellResult

# a line longer than this is cut on the page (the log keeps it whole)
LINE_CAP = 1000

_HEADER = re.compile(r"^# console lines (\d+)-(\d+)")


def console_excerpt(path: Path, c: CellResult, cap: int) -> dict | None:
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
    cl = c.console_lines
    if isinstance(cl, list) and cl and isinstance(cl[0], int):
        first = cl[0]
    if first is None:
        first = 1
    n = len(lines)
    ranges = []
    for r in c.reports:
        s, e = max(0, r.start_line - first), min(n - 1, r.end_line - first)
        if r.start_line and s <= e:
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
