"""Plain-text rendering of the checks, robot style: per patch, per check, new ones prefixed by >>.

For logs, the benchmark and VERIFY.md; the gate's own report (gate.md,
JUnit) reads the same data from `SeriesChecks`.
"""

from __future__ import annotations

from harness.model.checks import CheckResult, SeriesChecks, Status


def result_lines(r: CheckResult, old: bool = True, limit: int = 20) -> list[str]:
    lines = [f"  {r.check.value}: {r.summary()}"]
    if r.status is Status.NOT_RUN:
        return lines
    shown = [f for f in r.findings if f.new or old]
    if shown:
        lines.append(f"    {r.check.value} findings (new ones prefixed by >>):")
        for f in shown[:limit]:
            lines += ["    " + x for x in f.render().splitlines()]
        if len(shown) > limit:
            lines.append(f"    ... {len(shown) - limit} more")
    for u in r.unchecked:
        lines.append(f"    not checked: {u.file}: {u.reason}")
    for note in r.notes:
        lines.append(f"    note: {note}")
    return lines


def series_text(s: SeriesChecks, old: bool = True) -> str:
    out = [f"checks {', '.join(c.value for c in s.checks)} on {s.base_commit[:12]} (profile {s.profile})"]
    for p in s.patches:
        out.append(f"[{p.index}/{len(s.patches)}] {p.subject}")
        for c in s.checks:
            r = p.results.get(c)
            if r is not None:
                out += result_lines(r, old)
    out += [f"note: {n}" for n in s.notes]
    if s.timings:
        out.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in s.timings.items()))
    return "\n".join(out) + "\n"
