"""The results page's build facts and timing sections.

Builds are read from summary.json's `builds` (dicts, defensively: a field that
is missing shows as not recorded); cells are CellResults.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.model import CellResult
from harness.output.html_parts import esc, fmt_s, num


def builds_section(page) -> str:
    if not page.builds:
        return "<section id=builds><h2>Builds</h2><p class=muted>No build facts recorded.</p></section>"
    inputs = page.s.get("inputs") or {}
    profiles = inputs.get("profiles") or {}
    out = ["<section id=builds><h2>Builds</h2>"]
    for b in page.builds:
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
                 ("build", (fmt_s(b.get("duration_s")) + " — " if b.get("built") else "") + state),
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
        ncells = [c for c in page.cells if c.variant == v and c.profile == p]
        nbad = sum(1 for c in ncells if not c.passed)
        out.append(f"<details class=build id='build-{esc(v)}-{esc(p)}' {'open' if len(page.builds) <= 4 else ''}>"
                   f"<summary><b>{esc(v)}</b> / {esc(p)} — {esc(b.get('release') or 'no kernel')} · "
                   f"{len(ncells)} cells, {nbad} failed"
                   f"{' · <span class=bad>' + esc(state) + '</span>' if b.get('error') else ''}"
                   f"</summary><dl>{dl}</dl>{err}{_canary(b)}{_patches(b)}{_options(b)}</details>")
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


def _canary(b: dict) -> str:
    canary = b.get("canary")
    if canary:
        crow = "".join(f"<tr class={'ok' if r.get('seen') else 'bad'}><td>{esc(r.get('class'))}</td>"
                       f"<td><code>{esc(r.get('trigger'))}</code></td>"
                       f"<td>{'seen' if r.get('seen') else 'NOT SEEN'}</td><td>{esc(r.get('title'))}</td>"
                       f"<td>{esc(r.get('detail'))}</td></tr>" for r in canary)
        return ("<h4>Canary</h4><table class='list small'><thead><tr><th>class</th><th>trigger</th>"
                f"<th>seen</th><th>title</th><th>detail</th></tr></thead><tbody>{crow}</tbody></table>")
    if canary is None:
        return "<h4>Canary</h4><p class=muted>not run for this build</p>"
    return "<h4>Canary</h4><p class=muted>could not run (every report class treated as blind)</p>"


def _patches(b: dict) -> str:
    patches = b.get("patches") or []
    if not patches:
        return "<h4>Patches</h4><p class=muted>none (unpatched source)</p>"
    prow = "".join(f"<tr><td>{i + 1}</td><td>{esc(pt.get('series'))}</td><td>{esc(pt.get('file'))}</td>"
                   f"<td>{esc(pt.get('subject'))}</td><td><code title='{esc(pt.get('sha256'))}'>"
                   f"{esc(str(pt.get('sha256') or '')[:12])}</code></td></tr>"
                   for i, pt in enumerate(patches))
    return (f"<h4>Patches ({len(patches)})</h4><table class='list small'><thead><tr><th>#</th>"
            "<th>series</th><th>file</th><th>subject</th><th>sha256</th></tr></thead>"
            f"<tbody>{prow}</tbody></table>")


def _options(b: dict) -> str:
    opts = b.get("options") or {}
    if not opts:
        return ""
    orow = "".join(f"<span class='opt o-{esc(str(val))[:1]}'>{esc(k)}={esc(val)}</span>"
                   for k, val in opts.items())
    return f"<h4>Options that matter</h4><div class=opts>{orow}</div>"


_NAMES = {"build": "kernel builds", "boot": "guest boots", "steps": "scenario steps",
          "other": "other cell time (checks, taint, restarts)"}


def timing(page) -> str:
    build_t = {(b.get("variant"), b.get("profile")): num(b.get("duration_s")) if b.get("built") else 0.0
               for b in page.builds}
    boots = boot_times(page.cells, page.d)
    per_col = {col: {"build": build_t.get(col, 0.0), "boot": 0.0, "steps": 0.0, "other": 0.0}
               for col in page.cols}
    for col, t in boots.values():
        per_col.setdefault(col, {"build": 0.0, "boot": 0.0, "steps": 0.0, "other": 0.0})["boot"] += t
    for c in page.cells:
        steps = sum(st.duration_s for st in c.steps)
        pc = per_col.setdefault((c.variant, c.profile), {"build": 0.0, "boot": 0.0, "steps": 0.0, "other": 0.0})
        pc["steps"] += steps
        pc["other"] += max(0.0, c.duration_s - steps)
    tot = {k: sum(pc[k] for pc in per_col.values()) for k in ("build", "boot", "steps", "other")}
    grand = sum(tot.values()) or 1.0
    stack = "".join(f"<div class='seg t-{k}' style='width:{100 * v / grand:.2f}%' "
                    f"title='{esc(_NAMES[k])}: {fmt_s(v)}'></div>" for k, v in tot.items() if v > 0)
    legend = "".join(f"<span><span class='sw t-{k}'></span>{esc(_NAMES[k])} <b>{fmt_s(v)}</b> "
                     f"({100 * v / grand:.0f}%)</span>" for k, v in tot.items())
    peak = max((sum(pc.values()) for pc in per_col.values()), default=0.0) or 1.0
    rows = []
    for (v, p), pc in per_col.items():
        segs = "".join(f"<div class='seg t-{k}' style='width:{100 * val / peak:.2f}%' "
                       f"title='{esc(_NAMES[k])}: {fmt_s(val)}'></div>" for k, val in pc.items() if val > 0)
        rows.append(f"<tr><th>{esc(v)}/{esc(p)}</th><td class=barcell><div class=bar>{segs}</div></td>"
                    f"<td class=n>{fmt_s(sum(pc.values()))}</td></tr>")
    slow = sorted(page.cells, key=lambda c: -c.duration_s)[:12]
    smax = max((c.duration_s for c in slow), default=0.0) or 1.0
    srows = []
    for c in slow:
        segs = []
        for i, st in enumerate(c.steps):
            w = 100 * st.duration_s / smax
            if w > 0:
                segs.append(f"<div class='seg s{i % 6}' style='width:{w:.2f}%' title='{esc(st.name)}: "
                            f"{fmt_s(st.duration_s)}'></div>")
        rest = c.duration_s - sum(st.duration_s for st in c.steps)
        if rest > 0:
            segs.append(f"<div class='seg t-other' style='width:{100 * rest / smax:.2f}%' "
                        f"title='outside steps: {fmt_s(rest)}'></div>")
        srows.append(f"<tr><th>{page.cell_link(c.id)}</th><td class=barcell><div class=bar>{''.join(segs)}"
                     f"</div></td><td class=n>{fmt_s(c.duration_s)}</td></tr>")
    note = "" if boots else \
        "<p class=muted>Boot times are not recorded (no <code>boot_s</code> in summary.json, no boot console " \
        "log with host time stamps): boots count as cell time.</p>"
    return (f"<section id=timing><h2>Where the time went <small>summed over workers, "
            f"{fmt_s(grand if grand > 1 else sum(tot.values()))}"
            f"</small></h2><div class='bar big'>{stack}</div><div class=legend>{legend}</div>{note}"
            f"<h3>Per build</h3><table class=chart>{''.join(rows)}</table>"
            f"<h3>Slowest cells <small>(segments: steps)</small></h3><table class=chart>{''.join(srows)}</table>"
            f"</section>")


def boot_times(cells: list[CellResult], run_dir: Path) -> dict[str, tuple[tuple, float]]:
    """Seconds from QEMU start to the first scenario line, per boot: the
    cells' ``boot_s`` when recorded, else read from the boot's console
    log (every line stamped ``[host +seconds]`` by the harness)."""
    boots: dict[str, tuple[tuple, float]] = {}
    first_line: dict[str, tuple[tuple, int]] = {}
    for c in cells:
        b = c.boot
        if not b:
            continue
        col = (c.variant, c.profile)
        if isinstance(c.boot_s, (int, float)):
            boots[b] = (col, float(c.boot_s))
            continue
        cl = c.console_lines
        if isinstance(cl, list) and cl and isinstance(cl[0], int):
            if b not in first_line or cl[0] < first_line[b][1]:
                first_line[b] = (col, cl[0])
    for b, (col, first) in first_line.items():
        if b in boots or first > 200_000:
            continue
        path = Path(b) if Path(b).is_absolute() else run_dir / b
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
