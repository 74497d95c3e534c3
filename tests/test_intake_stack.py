"""Stacking a series on a configured variant: a derived variant whose extra
patches apply after its series, in the build key, and undone on failure.

Fast tests on a tiny kernel-like project (a `path` source, one series);
the slow ones apply the fixture series on the real cached 6.12 source."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.build.kernel import build_key
from harness.core.config import load_config
from harness.core.errors import InputError, PatchError
from harness.core.util import git
from harness.intake.folder import read_folder
from harness.intake.gitrange import read_git_range
from harness.intake.mbox import read_mbox
from harness.intake.patches import apply_variant, variant_patches
from harness.intake.series import Series
from harness.intake.source import prepare_source
from harness.intake.stack import variant_with_series
from tests.test_intake_range import commit, kernel_repo, sh, snapshot

FIX = Path(__file__).parent / "fixtures" / "series"


def apply(cfg, v, cache: Path):
    src = prepare_source(cfg.sources[v.source], cache)
    return src, apply_variant(src, v.name, v.series, cfg.series_dir, v.patch_limit,
                              extra_patches=v.extra_patches, stacked_on=v.stacked_on)


@pytest.fixture
def project(tmp_path):
    """configs/ + kernel-patches/s1 (one patch) over a tiny kernel tree (a `path` source)."""
    linux = kernel_repo(tmp_path)
    sh(linux, "stash", "-q")   # a `path` source includes uncommitted changes: keep it clean
    (tmp_path / "untracked.txt").unlink(missing_ok=True)
    (linux / "untracked.txt").unlink()
    s1 = tmp_path / "kernel-patches" / "s1"
    s1.mkdir(parents=True)
    sh(linux, "checkout", "-q", "-b", "s1-work", "v6.12")
    commit(linux, "b.c", "int b;\n", "int b_configured;\n", "b: the configured series")
    sh(linux, "format-patch", "-q", "-o", str(s1), "v6.12..HEAD")
    (s1 / "series").write_text("".join(p.name + "\n" for p in sorted(s1.glob("*.patch"))))
    sh(linux, "checkout", "-q", "main")
    sh(linux, "reset", "-q", "--hard", "v6.12")   # the source is the tree at v6.12
    (tmp_path / "configs/kconfig").mkdir(parents=True)
    (tmp_path / "configs/kconfig/base.config").write_text("CONFIG_PRINTK=y\n")
    (tmp_path / "configs/harness.yaml").write_text(textwrap.dedent(f"""\
        sources:
          k: {{path: {linux}}}
        variants:
          plain: {{source: k}}
          patched: {{source: k, series: [s1]}}
        profiles:
          p: {{fragments: [base.config]}}
        defaults: {{variant: patched, profile: p}}
        """))
    return load_config(tmp_path / "configs/harness.yaml"), linux, tmp_path


def series_in(linux: Path, tmp: Path, *changes) -> "object":
    """A series made in the tiny tree: (old, new, subject) changes of a.c on top of v6.12."""
    sh(linux, "checkout", "-q", "-b", f"work-{len(list(tmp.glob('ser-*')))}", "v6.12")
    for old, new, subject in changes:
        commit(linux, "a.c", old, new, subject)
    out = tmp / f"ser-{len(list(tmp.glob('ser-*')))}"
    sh(linux, "format-patch", "-q", "-o", str(out), "v6.12..HEAD")
    sh(linux, "checkout", "-q", "main")
    return read_folder(out)


def test_series_stacked_on_the_default_variant(project):
    cfg, linux, tmp = project
    s = series_in(linux, tmp, ("int line3;\n", "int line_three;\n", "a: three"),
                  ("int line9;\n", "int line_nine;\n", "a: nine"))
    v = variant_with_series(cfg, None, s, store=tmp / "store")
    assert cfg.variants[v.name] is v and v.stacked_on == "patched" and v.series == ("s1",)
    assert [p.name for p in v.extra_patches] == [p.filename for p in s.patches]
    assert all(p.parent.parent == tmp / "store" for p in v.extra_patches)
    src, applied = apply(cfg, v, tmp / "cache")
    log = git(src.repo, "log", "--format=%s", f"{src.base_commit}..{applied.commit}").splitlines()
    assert log == ["a: nine", "a: three", "b: the configured series"]
    assert len(applied.patches) == 3 == len(variant_patches(v.series, cfg.series_dir, v.extra_patches))


def test_prefixes_and_the_build_key(project):
    cfg, linux, tmp = project
    s = series_in(linux, tmp, ("int line3;\n", "int line_three;\n", "a: three"),
                  ("int line9;\n", "int line_nine;\n", "a: nine"))
    full = variant_with_series(cfg, "patched", s, store=tmp / "store")
    one = variant_with_series(cfg, "patched", s, upto=1, store=tmp / "store")
    zero = variant_with_series(cfg, "patched", s, upto=0, store=tmp / "store")
    assert one.name.endswith("@1") and one.extra_patches == full.extra_patches and one.patch_limit == 2
    keys = {}
    profile = cfg.profile(None)
    for v in (full, one, zero, cfg.variant("patched")):
        src, applied = apply(cfg, v, tmp / "cache")
        keys[v.name] = build_key(src, applied, profile, "gcc", "g")
        n = int(git(src.repo, "rev-list", "--count", f"{src.base_commit}..{applied.commit}"))
        assert n == 1 + {full.name: 2, one.name: 1}.get(v.name, 0)
    assert len(set(keys.values())) == 3 and keys[zero.name] == keys["patched"]
    # the same series with one patch's content changed: another key
    s2 = series_in(linux, tmp, ("int line3;\n", "int line_three;\n", "a: three"),
                   ("int line9;\n", "int line_NINE;\n", "a: nine"))
    other = variant_with_series(cfg, "patched", s2, store=tmp / "store")
    src, applied = apply(cfg, other, tmp / "cache")
    assert build_key(src, applied, profile, "gcc", "g") not in keys.values()


def test_patch_that_does_not_apply_names_patch_file_hunk_and_base(project):
    cfg, linux, tmp = project
    s = series_in(linux, tmp, ("int line3;\n", "int line_three;\n", "a: three"),
                  ("int line20;\n", "int line_twenty;\n", "a: twenty"))
    # a second patch written against other content: its hunk cannot match
    bad = read_folder(Path(s.origin))
    p2 = bad.patches[1]
    data = p2.data.replace(b"-int line20;", b"-int line21;").replace(b" int line21;\n", b" int line22;\n")
    (Path(s.origin) / p2.filename).write_bytes(data)
    broken = read_folder(Path(s.origin))
    v = variant_with_series(cfg, "patched", broken, name="gate-x", store=tmp / "store")
    src = prepare_source(cfg.sources["k"], tmp / "cache")
    with pytest.raises(PatchError) as exc:
        apply(cfg, v, tmp / "cache")
    msg = str(exc.value)
    assert "variant gate-x: patch 2/2 'a: twenty'" in msg, msg
    assert f"file {p2.filename!r}" in msg and "a.c: hunk at line 17 does not match" in msg
    assert f"on patched (k {src.base_commit[:12]} + s1, commit " in msg
    # nothing half-applied: back on the base, no am session, no branch, clean
    assert git(src.repo, "rev-parse", "HEAD") == src.base_commit
    assert not (src.repo / ".git/rebase-apply").exists()
    assert git(src.repo, "status", "--porcelain") == ""
    assert not git(src.repo, "branch", "--list", "harness/gate-x")


def test_configured_variant_names_are_not_replaced(project):
    cfg, linux, tmp = project
    s = series_in(linux, tmp, ("int line3;\n", "int line_three;\n", "a: three"))
    with pytest.raises(InputError, match="'plain' is a configured variant"):
        variant_with_series(cfg, "patched", s, name="plain", store=tmp / "store")
    with pytest.raises(InputError, match="unknown variant 'nope'"):
        variant_with_series(cfg, "nope", s, store=tmp / "store")
    with pytest.raises(InputError, match="no prefix of 5 patches"):
        variant_with_series(cfg, "patched", s, upto=5, store=tmp / "store")


def test_git_range_brings_its_base_as_the_source(project):
    """The user's tree at BASE is the source; the range applies on it; the
    user's repository is never modified, by intake, clone or apply."""
    cfg, linux, tmp = project
    sh(linux, "checkout", "-q", "-b", "feature", "v6.12")
    commit(linux, "a.c", "int line5;\n", "int line_five;\n", "a: five")
    base = commit(linux, "a.c", "int line6;\n", "int line_six;\n", "a: six (not in the range)")
    commit(linux, "a.c", "int line7;\n", "int line_seven;\n", "a: seven")
    (linux / "b.c").write_text("int b_dirty;\n")      # uncommitted work stays the user's
    before = snapshot(linux)
    s = read_git_range(f"{base[:10]}..feature", linux)
    v = variant_with_series(cfg, "plain", s, store=tmp / "store")
    assert cfg.sources[v.source].git.ref == base and cfg.sources[v.source].git.url == str(linux)
    src, applied = apply(cfg, v, tmp / "cache")
    assert src.base_commit == base and src.repo != linux
    assert git(src.repo, "log", "--format=%s", f"{base}..{applied.commit}") == "a: seven"
    assert "int line_six;" in git(src.repo, "show", f"{applied.commit}:a.c")
    assert "int b_dirty" not in git(src.repo, "show", f"{applied.commit}:b.c")
    assert snapshot(linux) == before


# -- the real 6.12 source (the shared cached repository, under its lock) ----------------------

@pytest.mark.slow
def test_fixture_series_applies_on_baseline_for_real(cfg, source_tree, tmp_path):
    s = read_mbox(FIX / "fence-signal-twice-v1-v2.mbox")
    v = variant_with_series(cfg, "baseline", s, store=tmp_path / "store")
    applied = apply_variant(source_tree, v.name, v.series, cfg.series_dir, v.patch_limit,
                            extra_patches=v.extra_patches, stacked_on=v.stacked_on)
    repo = source_tree.repo
    assert git(repo, "log", "--format=%s", f"{source_tree.base_commit}..{applied.commit}").splitlines() == \
        [p.subject for p in reversed(s.patches)]
    src = git(repo, "show", f"{applied.commit}:drivers/dma-buf/dma-fence.c")
    assert "signaled twice\\n" in src and "signalled already" not in src


@pytest.mark.slow
def test_fixture_series_does_not_apply_on_inline_lock(cfg, source_tree, tmp_path):
    """inline-lock rewrote the kernel-doc patch 1 touches: named, with its base."""
    s = read_mbox(FIX / "fence-signal-twice.mbox")
    v = variant_with_series(cfg, "inline-lock", s, store=tmp_path / "store")
    with pytest.raises(PatchError) as exc:
        apply_variant(source_tree, v.name, v.series, cfg.series_dir, v.patch_limit,
                      extra_patches=v.extra_patches, stacked_on=v.stacked_on)
    msg = str(exc.value)
    assert f"variant {v.name}: patch 1/3 'dma-buf: spell signaled consistently" in msg, msg
    assert "drivers/dma-buf/dma-fence.c" in msg
    assert f"on inline-lock (debian-6.12 {source_tree.base_commit[:12]} + rcu-ops, inline-lock, commit" in msg
    repo = source_tree.repo
    assert git(repo, "rev-parse", "HEAD") == source_tree.base_commit
    assert not (repo / ".git/rebase-apply").exists()
    assert not git(repo, "branch", "--list", f"harness/{v.name}")
    subprocess.run(["git", "-C", str(repo), "diff", "--quiet", "HEAD"], check=True)


def test_git_range_series_rebuilt_elsewhere_from_its_stored_folder(project):
    """repro: the stored series plus any tree that has BASE; a missing tree is named."""
    cfg, linux, tmp = project
    sh(linux, "checkout", "-q", "-b", "feature", "v6.12")
    commit(linux, "a.c", "int line5;\n", "int line_five;\n", "a: five")
    s = read_git_range("v6.12..feature", linux)
    stored = Series.load(s.write_to(tmp / "results" / "series"))
    moved = tmp / "elsewhere"
    subprocess.run(["git", "clone", "-q", str(linux), str(moved)], check=True)
    shutil.rmtree(linux)
    with pytest.raises(InputError, match=r"comes from the git tree '.*linux', which is not here"):
        variant_with_series(cfg, "plain", stored, store=tmp / "store")
    v = variant_with_series(cfg, "plain", stored, store=tmp / "store", tree=moved)
    src = prepare_source(cfg.sources[v.source], tmp / "cache")
    applied = apply_variant(src, v.name, v.series, cfg.series_dir, extra_patches=v.extra_patches)
    assert git(src.repo, "log", "-1", "--format=%s", applied.commit) == "a: five"


def test_stored_series_is_rewritten_when_edited(tmp_path):
    from harness.intake.stack import stored_series
    s = read_folder(FIX / "fence-signal-twice")
    folder = stored_series(s, tmp_path)
    f = folder / s.patches[0].filename
    f.write_bytes(f.read_bytes() + b"\n")
    assert stored_series(s, tmp_path) == folder and Series.load(folder) == s


def test_the_shipped_series_are_their_configured_variants_twins(tmp_path):
    """Gating kernel-patches/inline-lock on rcu-ops is gating the configured
    inline-lock variant: configured_twin says so, and says nothing for any
    other stacking or for a series that differs by one byte."""
    from harness.intake.stack import configured_twin
    cfg = load_config()
    root = Path(cfg.series_dir)
    rcu, inline = read_folder(root / "rcu-ops"), read_folder(root / "inline-lock")
    assert configured_twin(cfg, "baseline", rcu) == "rcu-ops"
    assert configured_twin(cfg, "rcu-ops", inline) == "inline-lock"
    assert configured_twin(cfg, "baseline", inline) is None      # inline-lock needs rcu-ops under it
    assert configured_twin(cfg, "rcu-ops", rcu) is None
    assert configured_twin(cfg, "baseline", rcu.prefix(4)) is None
    edited = tmp_path / "rcu-ops"
    shutil.copytree(root / "rcu-ops", edited)
    last = sorted(edited.glob("*.patch"))[-1]
    last.write_bytes(last.read_bytes().replace(b"\n+", b"\n+ ", 1))
    assert configured_twin(cfg, "baseline", read_folder(edited)) is None
