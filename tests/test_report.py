"""The static results page (issue 9): unit tests on synthetic results folders,
and the page checked for real in headless Chromium (DOM, screenshots, load
time of a 500-cell run).

Screenshots are kept as artifacts in the results folder each test writes
(``<results>/screenshots/*.png``); with HARNESS_REPORT_ARTIFACTS=DIR the
synthetic results folders are written under DIR instead of pytest's tmp.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.model import CellResult
from harness.model.compare import compare as compare_cells
from harness.output.html import classify as classify_cell, console_excerpt as excerpt, write_report
from harness.output.results import load_cells


def classify(c: dict) -> str:
    return classify_cell(CellResult.from_json(dict(c, id=c.get("id", "v.p.s"))))


def console_excerpt(path, c: dict, cap: int):
    return excerpt(path, CellResult.from_json(dict(c, id="v.p.s")), cap)


def compare(summary: dict, baseline: dict) -> dict:
    return vars(compare_cells(load_cells(summary), load_cells(baseline), baseline.get("run_id", "?")))

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                                    "`chromium`; `make deps` installs it): browser tests skipped")

# ---------------------------------------------------------------------------
# Synthetic results folders

KASAN = ("BUG: KASAN: slab-use-after-free in dma_fence_release+0x2a/0x90", "KASAN",
         "dma_fence_release", "issuer")
LOCKDEP = ("WARNING: possible circular locking dependency detected", "LOCKDEP", "vgem_fence_signal", None)
FAULT = ("BUG: unable to handle page fault for address: ffffffffc0201040", "PAGE_FAULT", "dma_fence_signal", "stash")
RCU = ("INFO: rcu_sched self-detected stall on CPU", "RCU_STALL", "vgem_loop", None)


def _report(spec, start, expected, step, n_body=14, symbolised=True):
    title, kind, frame, last = spec
    body = [f"{title}", f"Read of size 8 at addr ffff88800{start:05x} by task harness-step/{start % 900}",
            "CPU: 0 PID: 213 Comm: harness-step Tainted: G           O       6.12.0 #1",
            "Call Trace:", " <TASK>"]
    frames = [frame, "dma_fence_put", "stash_release", "__fput", "task_work_run", "do_exit", "do_group_exit"]
    for i, fn in enumerate(frames[:max(3, n_body - 7)]):
        loc = f" drivers/dma-buf/dma-fence.c:{500 + i}" if symbolised and i < 3 else ""
        mod = " [stash]" if fn.startswith("stash") else ""
        body.append(f" {fn}+0x{16 + i:x}/0x{0x90 + i:x}{mod}{loc}")
    body += [" </TASK>", f"Modules linked in: stash(O) issuer(O) [last unloaded: {last or 'none'}]"]
    sig = f"sig-{kind}-{frame}"
    return {"kind": kind, "title": title, "frame": frame, "corrupted": False, "module": "stash" if last else None,
            "last_unloaded": last, "step": step, "signature": sig, "start_line": start,
            "end_line": start + len(body) - 1, "text": "\n".join(body), "expected": expected,
            **({"location": "drivers/dma-buf/dma-fence.c:500"} if symbolised else {})}


def _steps(rng, scenario, bad_step=None, hang=False):
    names = ["load", "exercise", "drop", "check"]
    out = []
    for n in names:
        st = {"name": n, "command": f"/harness/{scenario}.sh {n}", "exit_status": 0, "expected_exit": 0,
              "duration_s": round(rng.uniform(0.2, 4.0), 2), "output": f"{n}: ok\n", "ok": True, "note": "",
              "subtests": []}
        if n == bad_step:
            st.update(ok=False, exit_status=None if hang else 1, note="timed out after 60 s" if hang else "exit 1",
                      duration_s=60.0 if hang else st["duration_s"])
            out.append(st)
            break
        out.append(st)
    return out


def _make_cell(rng, v, p, s, kind, boot, line0):
    cid = f"{v}.{p}.{s}"
    cell = {"id": cid, "variant": v, "profile": p, "scenario": s, "outcome": "clean", "expected": "clean",
            "expected_detail": {"outcome": "clean", "kind": None, "title": None, "step": None, "reason": None},
            "passed": True, "flaky": False, "attempts": 1, "why": "", "detail": "", "reports": [],
            "duration_s": 0.0, "steps": [], "tainted": "0", "build": {"key": f"key-{v}-{p}", "release": "6.12.0"},
            "dir": f"cells/{cid}"}
    n_lines = rng.randint(60, 160)
    steps = _steps(rng, s)
    reports = []
    if kind == "xcrash":
        r = _report(KASAN, line0 + 20, True, "drop")
        reports = [r]
        cell.update(outcome="report", expected="report KASAN /dma_fence_release/ in step drop",
                    expected_detail={"outcome": "report", "kind": "KASAN", "title": "dma_fence_release",
                                     "step": "drop", "reason": "the unfixed use-after-free"})
    elif kind == "crash":
        r = _report(LOCKDEP, line0 + 25, False, "exercise")
        reports = [r]
        cell.update(outcome="report", passed=False, why=f"unexpected report: {LOCKDEP[0]}")
    elif kind == "crash2":
        reports = [_report(FAULT, line0 + 30, False, "drop")]
        cell.update(outcome="report", passed=False, why=f"unexpected report: {FAULT[0]}")
    elif kind == "hang":
        steps = _steps(rng, s, bad_step="exercise", hang=True)
        reports = [_report(RCU, line0 + 40, False, "exercise", symbolised=False)]
        cell.update(outcome="hang", passed=False, why="step exercise did not finish in 60 s (hang)")
    elif kind == "fail":
        steps = _steps(rng, s, bad_step="check")
        cell.update(outcome="check-failed", passed=False, why="step check exited 1, expected 0")
    elif kind == "na":
        steps = []
        cell.update(outcome="n/a", detail="kernel lacks dmabuf selftests", why="kernel lacks dmabuf selftests")
    elif kind == "flaky":
        cell.update(flaky=True, attempts=2, first_attempt={"outcome": "hang", "why": "step exercise hung"})
    elif kind == "error":
        steps = []
        cell.update(outcome="error", passed=False, why="build failed: make exited 2", detail="build failed: make exited 2")
    cell["reports"] = reports
    cell["steps"] = steps
    cell["duration_s"] = round(sum(st["duration_s"] for st in steps) + rng.uniform(0.5, 2), 2)
    files = {"repro.sh": "#!/bin/sh\n", "cell.json": json.dumps(cell)}
    if kind not in ("na", "error"):
        n_lines = max(n_lines, max((r["end_line"] - line0 + 20 for r in reports), default=0))
        lines = []
        rep_at = {}
        for r in reports:
            for k, t in enumerate(r["text"].split("\n")):
                rep_at[r["start_line"] + k] = t
        for k in range(n_lines):
            no = line0 + k
            ts = 10 + k * 0.05
            if no in rep_at:
                text = f"[{ts:12.6f}] {rep_at[no]}"
            elif k % 25 == 3:
                text = f"HARNESS-STEP: {steps[min(len(steps) - 1, k // 25)]['name'] if steps else 'x'}"
            else:
                text = f"[{ts:12.6f}] virtio_blk virtio1: [vda] routine message {k} <noise> & more"
            lines.append((f"[host +{ts + 0.3:.3f}] " if k % 2 else "") + text)
        header = f"# console lines {line0}-{line0 + n_lines - 1} of {boot} (boot shared by the cells run in it)"
        files["console.log"] = header + "\n" + "\n".join(lines) + "\n"
        files["kernel.log"] = "\n".join(lines) + "\n"
        files["qemu-cmdline.txt"] = (f"qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -kernel "
                                     f"/cache/{v}-{p}/bzImage -append 'console=ttyS0 panic=-1' -nographic\n")
        cell.update(boot=boot, console_lines=[line0, line0 + n_lines - 1], boot_s=round(rng.uniform(5, 9), 2))
        files["reports.json"] = json.dumps(reports)
        files["reports.txt"] = "\n".join(r["text"] for r in reports) + "\n"
        line0 += n_lines
    return cell, files, line0


def make_results(root: Path, run_id: str, layout: dict[tuple[str, str, str], str], seed: int = 1,
                 complete: bool = True) -> Path:
    """Write results/<run_id>/ with summary.json and cell folders; layout maps
    (variant, profile, scenario) to a kind: ok, xcrash, crash, crash2, hang,
    fail, na, flaky, error."""
    rng = random.Random(seed)
    d = Path(root) / run_id
    d.mkdir(parents=True, exist_ok=True)
    cells = []
    line_at: dict[tuple[str, str], int] = {}
    for (v, p, s), kind in layout.items():
        boot = f"boots/{v}.{p}.w0.1/console.log"
        line0 = line_at.get((v, p), 120)
        cell, files, line_at[(v, p)] = _make_cell(rng, v, p, s, kind, boot, line0)
        cdir = d / cell["dir"]
        cdir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (cdir / name).write_text(text)
        cells.append(cell)
    cols = list(dict.fromkeys((v, p) for v, p, _ in layout))
    builds = []
    for i, (v, p) in enumerate(cols):
        builds.append({
            "variant": v, "profile": p, "error": None, "features": {"dmabuf_selftests": v != "base", "kasan": True},
            "canary": [{"class": "KASAN", "trigger": "lkdtm SLAB_USE_AFTER_FREE", "seen": True,
                        "title": "BUG: KASAN: slab-use-after-free in lkdtm_SLAB_USE_AFTER_FREE", "detail": ""},
                       {"class": "LOCKDEP", "trigger": "lkdtm LOCKDEP_ABBA", "seen": i % 4 != 3,
                        "title": "WARNING: possible circular locking dependency detected" if i % 4 != 3 else None,
                        "detail": "" if i % 4 != 3 else "no report within 20 s"}],
            "blind": [] if i % 4 != 3 else ["LOCKDEP"], "key": f"key-{v}-{p}-{'ab' * 16}", "release": "6.12.0-harness",
            "duration_s": round(rng.uniform(200, 500), 1), "built": i % 2 == 0,
            "source": {"name": "debian-6.12", "kind": "debian", "version": "6.12.57", "base_commit": "c0ffee" * 6,
                       "tree_id": "7ee" * 13, "origin": "/usr/src/linux-source-6.12.tar.xz"},
            "patches": [] if v == "base" else [
                {"series": "dma-fence-fix", "file": f"000{k + 1}-dma-fence-fix-part-{k + 1}.patch",
                 "sha256": f"{k:x}" * 64, "subject": f"dma-buf: fix fence lifetime, part {k + 1}"} for k in range(2)],
            "config_sha256": "cf" * 32, "compiler": "gcc (Debian 12.2.0-14) 12.2.0",
            "options": {"CONFIG_KASAN": "y", "CONFIG_PROVE_LOCKING": "y", "CONFIG_LKDTM": "m", "CONFIG_PREEMPT": "n"}})
    totals = {"cells": len(cells), "passed": sum(c["passed"] for c in cells),
              "failed": sum(not c["passed"] and c["outcome"] != "n/a" for c in cells),
              "flaky": sum(c["flaky"] for c in cells), "n/a": sum(c["outcome"] == "n/a" for c in cells),
              "errors": sum(c["outcome"] == "error" for c in cells)}
    summary = {"schema": 1, "run_id": run_id, "started": "2026-11-21T06:00:00",
               "finished": "2026-11-21T06:14:31" if complete else None, "complete": complete,
               "note": "" if complete else "interrupted", "exit_status": 1 if totals["failed"] else 0,
               "inputs": {"config_file": "configs/harness.yaml",
                          "profiles": {p: {"base": "defconfig", "fragments": {f"{p}.config": "ab" * 32}}
                                       for p in {p for _, p in cols}},
                          "series": {"dma-fence-fix": {"patches": 2}}, "qemu": "QEMU emulator version 7.2.15",
                          "guest": {"memory_mb": 1024, "cpus": 1}},
               "builds": builds, "totals": totals, "cells": sorted(cells, key=lambda c: c["id"])}
    (d / "summary.json").write_text(json.dumps(summary, indent=1))
    return d


SCENARIOS = ["boot-smoke", "dma-fence-uaf", "vgem-stress", "rcu-stall", "selftests-dmabuf"]
SMALL = {
    ("base", "debug", "boot-smoke"): "ok", ("base", "debug", "dma-fence-uaf"): "xcrash",
    ("base", "debug", "vgem-stress"): "ok", ("base", "debug", "rcu-stall"): "ok",
    ("base", "debug", "selftests-dmabuf"): "na",
    ("fixed", "debug", "boot-smoke"): "ok", ("fixed", "debug", "dma-fence-uaf"): "ok",
    ("fixed", "debug", "vgem-stress"): "ok", ("fixed", "debug", "rcu-stall"): "ok",
    ("fixed", "debug", "selftests-dmabuf"): "flaky",
    ("next", "debug", "boot-smoke"): "ok", ("next", "debug", "dma-fence-uaf"): "crash2",
    ("next", "debug", "vgem-stress"): "crash", ("next", "debug", "rcu-stall"): "hang",
    ("next", "debug", "selftests-dmabuf"): "fail",
}


def big_layout(n_variants=10, n_scenarios=50, seed=7) -> dict:
    rng = random.Random(seed)
    kinds = ["ok"] * 70 + ["xcrash"] * 10 + ["crash"] * 5 + ["crash2"] * 3 + ["hang"] * 3 + ["fail"] * 3 + \
        ["na"] * 3 + ["flaky"] * 2 + ["error"] * 1
    return {(f"v{i:02d}", "debug", f"scenario-{j:03d}"): rng.choice(kinds)
            for i in range(n_variants) for j in range(n_scenarios)}


@pytest.fixture
def outdir(tmp_path, request):
    base = os.environ.get("HARNESS_REPORT_ARTIFACTS")
    if base:
        d = Path(base) / request.node.name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d
    return tmp_path


# ---------------------------------------------------------------------------
# A tiny DOM reader for the HTML we write and the DOM Chromium dumps

class Dom(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.open: list[int] = []
        self.feed(text)

    VOID = {"meta", "br", "input", "img", "hr", "link"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a, []))
        if tag not in self.VOID:
            self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        while self.open:
            i = self.open.pop()
            if self.elements[i][0] == tag:
                break

    def handle_data(self, data):
        for i in self.open:
            self.elements[i][2].append(data)

    def find(self, tag=None, cls=None, **attrs):
        out = []
        for t, a, text in self.elements:
            if tag and t != tag:
                continue
            if cls and cls not in (a.get("class") or "").split():
                continue
            if any(a.get(k) != v for k, v in attrs.items()):
                continue
            out.append((t, a, "".join(text)))
        return out


# ---------------------------------------------------------------------------
# Unit tests

def test_classify_categories():
    base = {"outcome": "clean", "passed": True, "reports": []}
    assert classify(base) == "ok"
    assert classify(dict(base, outcome="report", reports=[{"expected": True}])) == "xcrash"
    assert classify(dict(base, outcome="report", passed=False, reports=[{"expected": False}])) == "crash"
    assert classify(dict(base, outcome="hang", passed=False)) == "dead"
    assert classify(dict(base, outcome="panic", passed=True)) == "xcrash"   # an expected panic
    assert classify(dict(base, outcome="clean", passed=False)) == "fail"    # the expected crash did not come
    assert classify(dict(base, outcome="error", passed=False)) == "error"
    assert classify(dict(base, outcome="n/a")) == "na"
    assert classify(dict(base, flaky=True, attempts=2)) == "flaky"
    assert classify({"id": "x"}) == "error"                                # nothing recorded: not a pass


def test_page_grid_legend_counts_and_details(outdir):
    d = make_results(outdir, "run-small", SMALL)
    out = write_report(d)
    assert out == d / "index.html"
    text = out.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text  # no network
    dom = Dom(text)
    cells = dom.find("td", cls="c")
    assert len(cells) == 15
    by_cat = {}
    for _, a, t in cells:
        cat = next(c for c in a["class"].split() if c != "c")
        by_cat.setdefault(cat, []).append(t)
    assert {k: len(v) for k, v in by_cat.items()} == {"ok": 8, "xcrash": 1, "crash": 2, "dead": 1, "na": 1,
                                                      "flaky": 1, "fail": 1}
    # the expected crash shows its title with a check mark, not as a failure
    (xc,) = by_cat["xcrash"]
    assert "✓" in xc and "KASAN: slab-use-after-free in dma_fence_release" in xc and "✗" not in xc
    assert any("possible circular locking dependency" in t and "✗" in t for t in by_cat["crash"])
    # legend names every category; per-column counts in the footer
    legend = " ".join(t for _, _, t in dom.find("div", cls="legend"))
    for label in ("clean", "expected crash", "unexpected crash", "hang / panic / no-boot", "error", "n/a", "flaky"):
        assert label in legend
    tot = [t for _, _, t in dom.find("tr", cls="tot")][0]
    assert "4/4" in tot and "5/5" in tot and "1/5" in tot
    # one detail blob per cell, with the console excerpt and the repro command
    blobs = {a["id"]: json.loads(t) for _, a, t in dom.find("script", type="application/json")}
    assert len(blobs) == 16
    meta = blobs.pop("meta")
    i = meta["cells"].index("base.debug.dma-fence-uaf")
    det = blobs[f"d{i}"]
    assert det["repro"].startswith("harness repro ") and det["repro"].endswith("cells/base.debug.dma-fence-uaf")
    assert det["qemu"].startswith("qemu-system-x86_64")
    r = det["reports"][0]
    con = det["console"]
    first_no, lines = con["chunks"][0]
    assert lines[r["start_line"] - first_no].endswith(r["title"])    # line numbers match the report's
    assert "console.log" in det["files"] and "repro.sh" in det["files"]
    # crash groups: one row per signature
    groups = dom.find("tr", cls="g-unexpected") + dom.find("tr", cls="g-expected")
    assert len(groups) == 4
    # builds: canary, patches, options
    assert "lkdtm LOCKDEP_ABBA" in text and "dma-buf: fix fence lifetime, part 1" in text
    assert "CONFIG_PROVE_LOCKING=y" in text
    # timing chart present with the categories
    assert "kernel builds" in text and "guest boots" in text and "scenario steps" in text


def test_baseline_comparison_marks_cells(outdir):
    old_layout = dict(SMALL)
    old_layout[("next", "debug", "vgem-stress")] = "ok"        # -> new failure (and new signature)
    old_layout[("fixed", "debug", "dma-fence-uaf")] = "crash2"  # -> fixed
    old = make_results(outdir, "run-old", old_layout, seed=2)
    new = make_results(outdir, "run-new", SMALL, seed=3)
    text = write_report(new, baseline=old).read_text()
    dom = Dom(text)
    section = [t for _, _, t in dom.find("section", id="changes")][0]
    assert "baseline run-old" in section
    assert "next.debug.vgem-stress" in section and "fixed.debug.dma-fence-uaf" in section
    marked = {a.get("data-i"): a for _, a, _ in dom.find("td", cls="c")}
    flags = {t for _, a, t in dom.find("span", cls="flag") if "title" in a}
    assert flags == {"NEW FAIL", "NEW SIG", "FIXED"}
    (nf,) = [t for _, a, t in dom.find("td", cls="c") if "NEW FAIL" in t]
    assert "NEW SIG" in nf and "circular locking" in nf
    cmp = compare(json.loads((new / "summary.json").read_text()), json.loads((old / "summary.json").read_text()))
    assert cmp["new_failures"] == ["next.debug.vgem-stress"]
    assert cmp["fixed"] == ["fixed.debug.dma-fence-uaf"]
    assert cmp["new_signatures"] == ["next.debug.vgem-stress"]
    assert len(marked) == 15
    # the crash group of the new signature is flagged NEW
    assert any("NEW" in t and "circular locking" in t for _, _, t in dom.find("tr", cls="g-unexpected"))


def test_console_excerpt_keeps_report_lines_when_capped(tmp_path):
    lines = [f"line {i}" for i in range(1000, 11000)]
    (tmp_path / "console.log").write_text("# console lines 1000-10999 of boots/x/console.log\n" + "\n".join(lines))
    cell = {"reports": [{"start_line": 5000, "end_line": 5040}, {"start_line": 9000, "end_line": 9010}]}
    ex = console_excerpt(tmp_path / "console.log", cell, 500)
    kept = {no + k: t for no, ch in ex["chunks"] for k, t in enumerate(ch)}
    assert len(kept) <= 500 and ex["omitted"] == 10000 - len(kept)
    for no in list(range(5000, 5041)) + list(range(9000, 9011)):
        assert kept[no] == f"line {no}"
    # no header and no reports: head and tail
    (tmp_path / "c2.log").write_text("\n".join(lines))
    ex = console_excerpt(tmp_path / "c2.log", {}, 300)
    assert ex["chunks"][0][0] == 1 and ex["chunks"][-1][0] + len(ex["chunks"][-1][1]) - 1 == 10000


def test_degrades_without_optional_fields(tmp_path):
    d = tmp_path / "r"
    (d / "cells").mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"run_id": "bare", "cells": [
        {"id": "a.b.c", "variant": "a", "profile": "b", "scenario": "c", "outcome": "report", "passed": False,
         "reports": [{"title": "BUG: oops", "kind": "OOPS", "start_line": 3, "end_line": 4}]},
        {"id": "a.b.d", "outcome": "weird-new-outcome"}]}))
    text = write_report(d).read_text()
    assert "BUG: oops" in text and "No build facts recorded" in text and "Boot times are not recorded" in text


def test_incomplete_run_banner(outdir):
    d = make_results(outdir, "run-int", {k: v for k, v in list(SMALL.items())[:4]}, complete=False)
    assert "INCOMPLETE RUN" in write_report(d).read_text()


def test_cli_report_and_bad_folder(tmp_path, capsys, monkeypatch):
    from harness.cli import main
    d = make_results(tmp_path / "results", "run1", SMALL)
    (tmp_path / "results" / "latest").symlink_to("run1")
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 0
    assert (d / "index.html").exists() and "index.html" in capsys.readouterr().out
    # repro paths are shown for the real run folder, not the moving `latest` link
    assert "harness repro results/run1/cells/" in (d / "index.html").read_text()
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", "empty"]) == 2
    assert "summary.json" in capsys.readouterr().err
    assert main(["report", "results/run1", "--baseline", "empty"]) == 2
    with pytest.raises(InputError):
        write_report(tmp_path / "empty")


def test_write_time_500_cells(tmp_path):
    d = make_results(tmp_path, "run-500", big_layout())
    t0 = time.perf_counter()
    out = write_report(d)
    elapsed = time.perf_counter() - t0
    assert len(Dom(out.read_text()).find("td", cls="c")) == 500
    assert elapsed < 5.0, f"writing index.html for 500 cells took {elapsed:.2f} s"


# ---------------------------------------------------------------------------
# Real browser

def chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, HOME=profile))


def dump_dom(url: str) -> str:
    p = chromium(["--dump-dom", "--virtual-time-budget=2000", url])
    assert p.returncode == 0 and "<html" in p.stdout, f"chromium --dump-dom failed: {p.stderr[-2000:]}"
    return p.stdout


def screenshot(url: str, path: Path, size=(1400, 1000)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    p = chromium([f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=2000", url])
    assert path.exists() and path.stat().st_size > 10_000, f"no screenshot: {p.stderr[-2000:]}"
    return path


def load_ms(url: str) -> tuple[float, float]:
    """(render, load) milliseconds since navigation start, as the page records them."""
    p = chromium(["--dump-dom", url])
    assert p.returncode == 0, p.stderr[-2000:]
    m = re.search(r'data-render-ms="([\d.]+)"', p.stdout)
    m2 = re.search(r'data-load-ms="([\d.]+)"', p.stdout)
    assert m, "the page did not record its render time"
    return float(m.group(1)), float(m2.group(1)) if m2 else float("nan")


@needs_chromium
def test_browser_grid_and_crash_detail(outdir):
    d = make_results(outdir, "run-browser", SMALL)
    page = write_report(d)
    shots = d / "screenshots"
    # the grid
    dom = Dom(dump_dom(page.as_uri()))
    assert len(dom.find("td", cls="c")) == 15
    assert any("possible circular locking dependency" in t for _, _, t in dom.find("td", cls="crash"))
    assert dom.find("div", id="detail", hidden="")               # no cell open yet
    screenshot(page.as_uri(), shots / "grid.png")
    # one crash cell's detail, opened through the URL hash
    cid = "next.debug.vgem-stress"
    url = page.as_uri() + "#cell=" + cid
    text = dump_dom(url)
    dom = Dom(text)
    (detail,) = dom.find("div", id="detail")
    assert "hidden" not in detail[1]
    body = [t for _, _, t in dom.find("div", id="detail-body")][0]
    assert "possible circular locking dependency detected" in body
    assert f"harness repro {d}/cells/{cid}" in body or f"harness repro {os.path.relpath(d)}/cells/{cid}" in body
    assert "qemu-system-x86_64" in body
    assert dom.find("span", cls="loc")                             # symbolised frames marked
    hl = dom.find("div", cls="hl")
    rep = next(c for c in json.loads((d / "summary.json").read_text())["cells"] if c["id"] == cid)["reports"][0]
    assert len(hl) == rep["end_line"] - rep["start_line"] + 1         # the report's console lines highlighted
    assert hl[0][1]["id"] == f"L{rep['start_line']}" and "circular locking" in hl[0][2]
    assert dom.find("button", **{"data-copy": next(a["data-copy"] for _, a, _ in dom.find("button")
                                                   if a.get("data-copy", "").startswith("harness repro"))})
    screenshot(url, shots / "crash-detail.png", size=(1400, 2300))   # tall: down to the console
    # the expected crash's detail says so
    body = [t for _, _, t in Dom(dump_dom(page.as_uri() + "#cell=base.debug.dma-fence-uaf"))
            .find("div", id="detail-body")][0]
    assert "as expected ✓" in body and "expected crash" in body


@needs_chromium
def test_browser_500_cells_load_under_a_second(outdir):
    d = make_results(outdir, "run-500", big_layout())
    page = write_report(d)
    size_mb = page.stat().st_size / 1e6
    load_ms(page.as_uri())                                        # warm the file cache and chromium
    renders, loads = zip(*(load_ms(page.as_uri()) for _ in range(3)))
    render, load = min(renders), min(loads)
    print(f"500 cells: index.html {size_mb:.1f} MB, rendered in {render:.0f} ms, load event {load:.0f} ms")
    assert render <= 1000 and load <= 1000, f"500-cell page: render {render} ms, load {load} ms (> 1 s)"
    dom = Dom(dump_dom(page.as_uri()))
    assert len(dom.find("td", cls="c")) == 500
    screenshot(page.as_uri(), d / "screenshots" / "grid-500.png")
    # a crash cell opens in the big page too
    crash_id = next(f"{v}.{p}.{s}" for (v, p, s), k in big_layout().items() if k == "crash")
    body = [t for _, _, t in Dom(dump_dom(page.as_uri() + "#cell=" + crash_id)).find("div", id="detail-body")][0]
    assert "possible circular locking dependency" in body


def test_page_from_the_real_results_writer(tmp_path):
    """A folder written by harness.results.RunResults (what `harness run` uses) renders."""
    from harness.output.results import RunResults, repro_sh
    rr = RunResults(tmp_path / "results", "r1")
    rep = _report(LOCKDEP, 12, False, "exercise")
    lines = [f"[    1.{i:06d}] boot line {i}" for i in range(1, 12)] + \
        [f"[    2.000000] {t}" for t in rep["text"].split("\n")] + ["[    3.000000] after"]
    cell = {"id": "v.p.s", "variant": "v", "profile": "p", "scenario": "s", "outcome": "report",
            "expected": "clean", "passed": False, "flaky": False, "attempts": 1, "why": "unexpected report",
            "detail": "", "reports": [rep], "duration_s": 3.0, "steps": [], "tainted": "",
            "build": {"key": "k", "release": "6.12.0"}, "boot": "boots/v.p.w0.1/console.log",
            "console_lines": [1, len(lines)]}
    rr.add_cell(CellResult.from_json(cell), {"console.log": f"# console lines 1-{len(lines)} of boots/v.p.w0.1/console.log\n"
                       + "\n".join(lines) + "\n", "repro.sh": repro_sh("cells/v.p.s"),
                       "qemu-cmdline.txt": "qemu-system-x86_64 -nographic\n"})
    rr.write_summary(complete=True, exit_status=1)
    boot_log = rr.dir / "boots/v.p.w0.1/console.log"   # boot time from the host stamps (no boot_s)
    boot_log.parent.mkdir(parents=True)
    boot_log.write_text("".join(f"[host +{6.5 + i:.3f}] {ln}\n" for i, ln in enumerate(lines)))
    page = write_report(tmp_path / "results" / "latest")
    assert "guest boots <b>6.5 s</b>" in page.read_text()
    assert page == (tmp_path / "results" / "r1" / "index.html").resolve()
    dom = Dom(page.read_text())
    det = json.loads(dom.find("script", id="d0")[0][2])
    no, chunk = det["console"]["chunks"][0]
    assert chunk[rep["start_line"] - no].endswith(rep["title"])
    assert det["qemu"] == "qemu-system-x86_64 -nographic" and det["repro"].endswith("results/r1/cells/v.p.s")


@needs_chromium
def test_browser_cell_detail_lists_every_subtest(tmp_path):
    """A suite's subtests are rows of the cell's detail, a skip shown as a skip."""
    from harness.output.results import RunResults
    from harness.model import Expectation, Outcome, StepResult, Subtest
    rr = RunResults(tmp_path / "results", "r1")
    subs = [Subtest("sync/sync_alloc", "pass"), Subtest("udmabuf/huge", "skip", "no hugetlbfs"),
            Subtest("sync/sync_merge", "fail", "exit 1")]
    rr.add_cell(CellResult("v", "p", "kselftest-sync", Outcome.CHECK_FAILED, Expectation("clean"), False,
                           "step run: subtest failed", steps=[StepResult("run", "ksft-run sync", 1, 0, 1.0, "",
                                                                         False, "1 failed", subs)]))
    rr.write_summary(complete=True, exit_status=1)
    page = write_report(rr.dir)
    dom = Dom(dump_dom(page.as_uri() + "#cell=v.p.kselftest-sync"))
    rows = dom.find("tr", cls="st-bad") + dom.find("tr", cls="st-ok") + dom.find("tr", cls="st-na")
    text = " ".join(t for _, _, t in rows)
    assert len(rows) == 3 and "sync/sync_merge" in text and "no hugetlbfs" in text
    body = [t for _, _, t in dom.find("div", id="detail-body")][0]
    assert "3 subtests: 1 pass, 1 fail, 1 skip" in body


@needs_chromium
def test_browser_hung_step_shows_its_evidence(tmp_path):
    """A hung step's evidence (harness/vm/evidence.py) is in the cell's detail."""
    from harness.output.results import RunResults
    from harness.model import Expectation, Outcome, StepResult
    rr = RunResults(tmp_path / "results", "r1", header={"calibration": {"describe": "x2.99, measured"}})
    ev = {"decision": {"kind": "stuck", "why": "no console output and vCPUs idle"},
          "summary": "vCPU host CPU cpu0 99%, cpu1 0%; CPUs: cpu0 in stall_busy_loop", "console_lines": [3, 9]}
    rr.add_cell(CellResult("v", "p", "spin", Outcome.HANG, Expectation("clean"), False, "expected clean, got hang",
                           steps=[StepResult("spin", "echo 1 > spin", None, 0, 30.0, "", False, "did not finish",
                                             evidence=ev)]))
    rr.write_summary(complete=True, exit_status=1)
    page = write_report(rr.dir)
    assert "x2.99, measured" in page.read_text()
    body = [t for _, _, t in Dom(dump_dom(page.as_uri() + "#cell=v.p.spin")).find("div", id="detail-body")][0]
    assert "at the deadline: stuck" in body and "stall_busy_loop" in body
