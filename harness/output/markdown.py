"""summary.md: the run as a markdown table (scenarios down, builds across)."""

from __future__ import annotations

from harness.model import CellResult

OUTCOME_MARK = {"clean": "clean", "report": "REPORT", "check-failed": "CHECK-FAILED", "hang": "HANG",
                "panic": "PANIC", "no-boot": "NO-BOOT", "error": "ERROR", "n/a": "n/a"}


def verdict_mark(c: CellResult) -> str:
    if c.flaky:
        return "⚠️ flaky"
    return "✅" if c.passed else "❌"


def summary_md(summary: dict, cells: list[CellResult]) -> str:
    cols = sorted({(c.variant, c.profile) for c in cells})
    rows = sorted({c.scenario for c in cells})
    idx = {(c.variant, c.profile, c.scenario): c for c in cells}
    t = summary["totals"]
    out = [f"# Run {summary['run_id']}", "",
           f"{t['passed']}/{t['cells']} cells as expected, {t['failed']} failed, {t['flaky']} flaky, "
           f"{t['n/a']} n/a" + ("" if summary["complete"] else " — **INCOMPLETE RUN**"), "",
           "| scenario | " + " | ".join(f"{v}/{p}" for v, p in cols) + " |",
           "|---|" + "---|" * len(cols)]
    for s in rows:
        line = [s]
        for v, p in cols:
            c = idx.get((v, p, s))
            if not c:
                line.append("")
                continue
            mark = OUTCOME_MARK.get(str(c.outcome), str(c.outcome))
            title = c.reports[0].title if c.reports else ""
            line.append(f"{verdict_mark(c)} {mark}" + (f": {title}" if title else ""))
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in line) + " |")
    failed = [c for c in cells if not c.passed]
    if failed:
        out += ["", "## Failed cells", ""]
        for c in failed:
            out.append(f"- `{c.id}`: {c.why or c.outcome} — `harness repro {c.dir}`")
    for b in summary.get("builds", []):
        if b.get("canary"):
            out += ["", f"## Canary {b['variant']}/{b['profile']}", "", "| class | trigger | seen | title |",
                    "|---|---|---|---|"]
            for r in b["canary"]:
                out.append(f"| {r['class']} | {r['trigger']} | {'yes' if r['seen'] else '**NO**'} | "
                           f"{r.get('title') or ''} |")
    return "\n".join(out) + "\n"
