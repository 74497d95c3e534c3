"""The per-patch checks on the real tree with the real tools (gcc W=1, sparse,
the tree's checkpatch.pl, kbuild), on throwaway series written for these tests
(tests/fixtures/checks/series-*) and on the shipped series.

All runs share the checks' work tree and objdirs of the debug profile
(<cache>/checks/debug): the first run of a fresh cache builds the kernel there
once (minutes); later runs are incremental.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.checks import CheckName, Severity, Status, check_series
from harness.core.errors import PatchError

FIX = Path(__file__).resolve().parent / "fixtures" / "checks"
SW_SYNC = "drivers/dma-buf/sw_sync.c"


def series(name: str) -> list[Path]:
    folder = FIX / name
    return [folder / line.strip() for line in (folder / "series").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def rcu_ops(cfg, source_tree):
    from harness.intake.patches import apply_variant
    v = cfg.variant("rcu-ops")
    return apply_variant(source_tree, v.name, v.series, cfg.series_dir)


def run_checks(cfg, source_tree, base, patches, workdir, checks, **kw):
    return check_series(source_tree.repo, base, patches, cfg.profile("debug"), checks=checks,
                        workdir=workdir, guest_root=cfg.root, **kw)


@pytest.mark.slow
def test_sparse_warning_is_attributed_to_the_patch_that_brings_it(cfg, source_tree, rcu_ops, tmp_path):
    res = run_checks(cfg, source_tree, rcu_ops.commit, series("series-sparse"), tmp_path,
                     ["build", "warnings", "sparse", "checkpatch"])
    p1, p2 = res.patches
    for check in (CheckName.BUILD, CheckName.WARNINGS, CheckName.SPARSE, CheckName.CHECKPATCH):
        assert p1.result(check).status is Status.PASSED, (check, p1.result(check).summary())
    assert p1.result("sparse").checked == ["drivers/dma-buf/sw_sync.o"]
    sparse = p2.result("sparse")
    assert sparse.status is Status.FAILED, sparse.summary()
    (new,) = sparse.new
    assert new.file == SW_SYNC and new.function == "dma_fence_is_sync_pt"
    assert new.message.startswith("incompatible types in comparison expression (different address spaces)")
    assert "__rcu" in new.message          # sparse's continuation lines name the two types
    # sparse 0.6.4 prints this one as "error:" (compilation goes on): kept as sparse says it
    assert new.line == 91 and new.severity is Severity.ERROR
    assert p2.result("warnings").status is Status.PASSED       # gcc does not see __rcu
    assert p2.result("build").status is Status.PASSED
    assert p2.result("checkpatch").status is Status.PASSED
    assert ">> drivers/dma-buf/sw_sync.c:91" in new.render()
    assert set(res.timings) >= {"prepare", "build", "warnings", "sparse", "checkpatch"}


@pytest.mark.slow
def test_a_build_break_names_the_patch_and_the_error(cfg, source_tree, rcu_ops, tmp_path):
    res = run_checks(cfg, source_tree, rcu_ops.commit, series("series-break"), tmp_path, ["build"])
    p1, p2 = res.patches
    assert p1.result("build").status is Status.PASSED
    assert p1.result("build").checked == ["vmlinux", "modules", "guest modules"]
    build = p2.result("build")
    assert build.status is Status.FAILED
    assert build.reason.startswith("the kernel does not build with patch 2: drivers/dma-buf/sw_sync.c:91")
    first = build.findings[0]
    assert (first.file, first.line, first.function) == (SW_SYNC, 91, "dma_fence_is_sync_pt")
    assert "implicit declaration of function 'dma_fence_ops_is'" in first.message
    assert first.new and first.severity is Severity.ERROR
    assert Path(build.log).is_file()


@pytest.mark.slow
def test_w1_warning_stays_old_when_a_later_patch_moves_it(cfg, source_tree, rcu_ops, tmp_path):
    res = run_checks(cfg, source_tree, rcu_ops.commit, series("series-w1"), tmp_path, ["warnings"])
    p1, p2 = res.patches
    w1 = p1.result("warnings")
    assert w1.status is Status.FAILED
    (new,) = w1.new
    assert (new.file, new.function, new.kind) == (SW_SYNC, "sync_timeline_signal", "-Wunused-but-set-variable")
    assert new.message == "variable 'last_seqno' set but not used"
    w2 = p2.result("warnings")
    assert w2.status is Status.PASSED, w2.summary()
    (old,) = w2.findings
    assert not old.new and old.line == new.line + 8       # moved by the comment, not new


@pytest.mark.slow
def test_unbuilt_file_is_reported_not_passed(cfg, source_tree, tmp_path):
    """rcu-ops/0004 touches amdgpu and others that the debug profile does not build."""
    from harness.intake.patches import read_series
    patches = [p.path for p in read_series(cfg.series_dir, "rcu-ops")]
    res = run_checks(cfg, source_tree, source_tree.base_commit, patches[:4], tmp_path, ["sparse"])
    p4 = res.patches[3]
    sparse = p4.result("sparse")
    assert sparse.status is Status.PARTIAL, sparse.summary()
    reasons = {u.file: u.reason for u in sparse.unchecked}
    assert reasons["drivers/gpu/drm/amd/amdgpu/amdgpu_fence.c"] == \
        "not built in this config (CONFIG_DRM_AMDGPU is not set)"
    assert "drivers/dma-buf/dma-fence.o" in sparse.checked


def test_patch_that_does_not_apply_is_bad_input(cfg, source_tree, rcu_ops, tmp_path):
    """series-break/0002 without its patch 1 cannot apply: the error names it and the file."""
    with pytest.raises(PatchError, match=r"patch 1/1 0002-dma-buf-sw_sync-use-dma_fence_ops_is.patch "
                                         r"does not apply.*sw_sync.c"):
        run_checks(cfg, source_tree, rcu_ops.commit, series("series-break")[1:], tmp_path, ["checkpatch"])


def test_missing_tools_are_not_run_not_passed(cfg, source_tree, rcu_ops, tmp_path, monkeypatch):
    """Without sparse or perl on PATH those checks say so; nothing else is needed for them to decide."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("git",):
        os.symlink(f"/usr/bin/{tool}", bindir / tool)
    monkeypatch.setenv("PATH", str(bindir))
    res = run_checks(cfg, source_tree, rcu_ops.commit, series("series-sparse")[:1], tmp_path / "w",
                     ["sparse", "checkpatch"])
    r = res.patches[0].result("sparse")
    assert r.status is Status.NOT_RUN and r.reason == "sparse is not installed"
    r = res.patches[0].result("checkpatch")
    assert r.status is Status.NOT_RUN and r.reason == "perl is not installed"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rcu-ops", "inline-lock"])
def test_shipped_series_bring_no_new_warnings(cfg, source_tree, rcu_ops, tmp_path, name):
    """The result recorded in kernel-patches/VERIFY.md: no new W=1 or sparse warning in any patch."""
    from harness.intake.patches import read_series
    base = source_tree.base_commit if name == "rcu-ops" else rcu_ops.commit
    patches = [p.path for p in read_series(cfg.series_dir, name)]
    res = run_checks(cfg, source_tree, base, patches, tmp_path, ["warnings", "sparse"])
    for p in res.patches:
        for check in ("warnings", "sparse"):
            r = p.result(check)
            assert r.status in (Status.PASSED, Status.PARTIAL), (p.index, check, r.summary())
            assert not r.new, (p.index, check, [f.render() for f in r.new])
    checked = {o for p in res.patches for o in p.result("sparse").checked}
    assert {"drivers/dma-buf/dma-fence.o", "drivers/dma-buf/sw_sync.o"} <= checked


def test_relative_patch_paths_work_from_anywhere(cfg, source_tree, rcu_ops, tmp_path, monkeypatch):
    """git am and checkpatch run in the checks' work tree: a relative path must still find the patch."""
    monkeypatch.chdir(FIX)
    res = run_checks(cfg, source_tree, rcu_ops.commit,
                     [Path("series-sparse/0001-dma-buf-sw_sync-add-dma_fence_is_sync_pt.patch")], tmp_path,
                     ["checkpatch"])
    r = res.patches[0].result("checkpatch")
    assert r.status is Status.PASSED, r.summary()
    log = tmp_path / "01-0001-dma-buf-sw_sync-add-dma_fence_is_sync_pt" / "checkpatch.txt"
    assert "total: 0 errors, 0 warnings, 0 checks" in log.read_text()
