"""The ported series on real guests: it applies, the selftests pass on every
variant with lockdep and KASAN on and no splat, vgem and sw_sync keep working,
and the fix is real (the module-unload oops on baseline is gone with it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.intake.patches import read_series

pytestmark = pytest.mark.slow


def test_series_are_well_formed(cfg):
    for name in ("rcu-ops", "inline-lock"):
        patches = read_series(cfg.series_dir, name)
        assert patches, name
        for p in patches:
            text = p.path.read_text()
            assert "Signed-off-by:" in text, p.path.name
            body = text.split("\n\n", 1)[1].split("---\n", 1)[0]
            assert len(body.strip().splitlines()) >= 3, f"{p.path.name}: commit message too short"


@pytest.fixture(scope="module")
def selftest_run(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("series")
    m = tmp / "matrix.yaml"
    m.write_text("variants: [baseline, rcu-ops, inline-lock]\nprofiles: [debug]\n"
                 "scenarios: [dmabuf-selftests, sw-sync-usage, stash-signaled-drop-after-unload,"
                 " stash-inline-drop-after-unload]\n")
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--matrix", str(m), "--results",
                           str(tmp / "r"), "--no-canary"], cwd=root, capture_output=True, text=True,
                          timeout=3600)
    summary = json.loads((tmp / "r/latest/summary.json").read_text())
    return proc, {c["id"]: c for c in summary["cells"]}


@pytest.mark.parametrize("variant", ["baseline", "rcu-ops", "inline-lock"])
def test_selftests_pass_without_splat(selftest_run, variant):
    proc, cells = selftest_run
    c = cells[f"{variant}.debug.dmabuf-selftests"]
    assert c["outcome"] == "clean", (c["why"], [r["title"] for r in c["reports"]], proc.stderr[-2000:])
    subtests = c["steps"][0]["subtests"]
    assert len(subtests) > 20 and all(t["result"] == "pass" for t in subtests), subtests
    assert any(t["name"] == "dma_fence/race_signal_callback" for t in subtests)


@pytest.mark.parametrize("variant", ["baseline", "rcu-ops", "inline-lock"])
def test_sw_sync_keeps_working(selftest_run, variant):
    _, cells = selftest_run
    c = cells[f"{variant}.debug.sw-sync-usage"]
    assert c["outcome"] == "clean" and c["passed"], c["why"]


def test_fix_is_real(selftest_run):
    """Baseline oopses in dma_fence_release after the issuer is unloaded; the
    series makes the same sequence clean, and the contract-abiding issuer too."""
    _, cells = selftest_run
    base = cells["baseline.debug.stash-signaled-drop-after-unload"]
    assert base["outcome"] == "report"
    r = base["reports"][0]
    assert "dma_fence_release" in r["title"] and r["last_unloaded"] == "fence_issuer", r
    for v in ("rcu-ops", "inline-lock"):
        c = cells[f"{v}.debug.stash-signaled-drop-after-unload"]
        assert c["outcome"] == "clean", (v, [x["title"] for x in c["reports"]])
    c = cells["inline-lock.debug.stash-inline-drop-after-unload"]
    assert c["outcome"] == "clean", [x["title"] for x in c["reports"]]
