"""Guest modules, guest program and scenario files: static checks, a host run
of fenceutil's daemon protocol, Kbuild feature detection, and a compile of the
modules against a kernel build when one is in the cache."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GM = ROOT / "guest-modules"
VARIANTS = ("baseline", "rcu-ops", "inline-lock")
CACHE = Path(os.environ.get("HARNESS_CACHE", Path.home() / ".cache" / "harness"))


@pytest.fixture(scope="module")
def scenarios(cfg):
    from harness.scenarios.spec import load_scenarios
    return load_scenarios(cfg)


def test_every_scenario_states_every_variant(scenarios):
    assert len(scenarios) >= 50
    for s in scenarios.values():
        for v in VARIANTS:
            assert v in s.expect, f"{s.name}: no expectation for {v}"
            e = s.expect[v]
            assert e.reason or e.outcome == "clean", f"{s.name}/{v}: no reason"
            if e.outcome == "report":
                assert e.kind and e.title, f"{s.name}/{v}: report without kind/title"
        assert "default" in s.expect


def test_issue_6_scenarios_exist(scenarios):
    names = set(scenarios)
    for kind in ("stash", "syncfile", "resv", "array", "chain"):     # 1. holders
        assert f"{kind}-signaled-drop-after-unload" in names
    for q in ("names", "status", "wait", "callback", "deadline"):     # 2. queries
        assert f"query-{q}-extern-static" in names
    for ops in ("names", "release", "wait", "enable-signaling", "signaled", "set-deadline"):  # 3.
        for lock in ("extern-static", "extern-heap", "embedded", "inline"):
            assert f"ops-{ops}-{lock}-drop" in names
    assert "unsignaled-drop-after-unload" in names                   # 4.
    assert "vgem-syncfile-info-after-unload" in names                # 5.
    assert {"dmabuf-selftests", "sw-sync-usage"} <= names            # 6.
    stress = [s for s in scenarios.values() if "stress" in s.tags]    # 7.
    assert stress and all("fence-stress -n 100" in s.steps[0].run for s in stress)


def test_budgets_and_features(scenarios):
    for s in scenarios.values():
        if not {"stress", "slow", "selftest"} & set(s.tags):
            assert s.timeout_s <= 15, s.name      # issue 6: <= 15 s under TCG
        runs = " ".join(st.run for st in s.steps)
        if "lock=inline" in runs and "build" not in s.tags:
            assert "inline_lock" in s.requires, s.name
            assert s.expect["baseline"].outcome == "n/a", s.name


def test_readme_table_lists_every_scenario(scenarios):
    text = (ROOT / "configs" / "README.md").read_text()
    for name in scenarios:
        assert f"| `{name}` |" in text, f"{name} missing from configs/README.md"


def test_scripts_parse():
    for script in (GM / "scripts").iterdir():
        subprocess.run(["sh", "-n", str(script)], check=True)


@pytest.fixture(scope="module")
def fenceutil(tmp_path_factory) -> Path:
    if not shutil.which("gcc") or not shutil.which("make"):
        pytest.skip("no host gcc/make")
    d = tmp_path_factory.mktemp("prog")
    shutil.copytree(GM / "prog", d, dirs_exist_ok=True)
    subprocess.run(["make", "-C", str(d)], check=True, capture_output=True)
    return d / "fenceutil"


def test_fenceutil_daemon_protocol(fenceutil, tmp_path):
    ctl = tmp_path / "ctl"
    r = subprocess.run([fenceutil, "hold", "--ctl", ctl, "--log", tmp_path / "log", "none"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([fenceutil, "ctl", ctl, "ping"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "pong" in r.stdout
    r = subprocess.run([fenceutil, "ctl", ctl, "info"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "no sync_file held" in r.stdout
    r = subprocess.run([fenceutil, "ctl", ctl, "exit"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    r = subprocess.run([fenceutil, "ctl", ctl, "ping"], capture_output=True, text=True, timeout=15)
    assert r.returncode == 3     # daemon gone


def test_fenceutil_reports_a_dead_daemon(fenceutil, tmp_path):
    ctl = tmp_path / "ctl"
    subprocess.run([fenceutil, "hold", "--ctl", ctl, "none"], check=True, capture_output=True, timeout=10)
    pid = int((tmp_path / "ctl.pid").read_text().split()[0])
    os.kill(pid, 19)     # SIGSTOP: never answers, then dies while the client waits
    killer = subprocess.Popen(["sh", "-c", f"sleep 0.5; kill -9 {pid}"])
    r = subprocess.run([fenceutil, "ctl", ctl, "ping"], capture_output=True, text=True, timeout=15)
    killer.wait()
    # dead before or while handling the command: both are "the daemon died", status 3
    assert r.returncode == 3 and ("died" in r.stderr or "not listening" in r.stderr), r.stderr


def _kbuild_flags(tmp_path: Path, header: str) -> str:
    src = tmp_path / "src"
    (src / "include" / "linux").mkdir(parents=True)
    (src / "include" / "linux" / "dma-fence.h").write_text(header)
    mk = tmp_path / "probe.mk"
    mk.write_text(f"include {GM / 'kmod' / 'Kbuild'}\nall:\n\t@echo FLAGS: $(ccflags-y)\n")
    r = subprocess.run(["make", "-s", "-f", str(mk), f"srctree={src}", "all"], capture_output=True, text=True,
                       check=True)
    return r.stdout


def test_kbuild_detects_no_feature_on_baseline_headers(tmp_path):
    flags = _kbuild_flags(tmp_path, "struct dma_fence {\n\tspinlock_t *lock;\n"
                                    "\tconst struct dma_fence_ops *ops;\n};\n")
    assert "HAVE_" not in flags


def test_kbuild_detects_the_series(tmp_path):
    flags = _kbuild_flags(tmp_path, "\tconst struct dma_fence_ops __rcu *ops;\n"
                                    "\tDMA_FENCE_FLAG_INLINE_LOCK_BIT,\n"
                                    "const char *dma_fence_driver_name(struct dma_fence *fence);\n"
                                    "static inline spinlock_t *dma_fence_spinlock(struct dma_fence *f)\n")
    for f in ("HAVE_DMA_FENCE_INLINE_LOCK", "HAVE_DMA_FENCE_RCU_OPS", "HAVE_DMA_FENCE_NAME_HELPERS",
              "HAVE_DMA_FENCE_LOCK_HELPERS"):
        assert f"-D{f}" in flags


@pytest.mark.slow
def test_modules_compile_against_a_built_kernel(default_build):
    """The harness builds the guest modules against each variant, with the
    variant's own headers checked out (the source work tree is shared between
    variants, so compiling outside the build lock would read another
    variant's dma-fence.h); here: they are all there, without warnings."""
    assert default_build.guest_modules == ["fence_holder.ko", "fence_issuer.ko", "harness_canary.ko",
                                           "harness_canary_victim.ko", "harness_stall.ko"]
    assert "fenceutil" in default_build.guest_programs
    log = (default_build.dir / "build.log").read_text(errors="replace")
    guest_part = log[log.find("guest/kmod"):] if "guest/kmod" in log else ""
    assert guest_part, "the build log has the guest module build"
    assert "warning:" not in guest_part.lower().replace("warning: modpost", "")
