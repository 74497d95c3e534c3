"""Patch application on a small throwaway git tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import PatchError
from harness.intake.patches import apply_variant, read_series
from harness.intake.source import SourceTree
from harness.core.util import git
from tests.conftest import git_init


def make_source(tmp: Path) -> SourceTree:
    repo = tmp / "src"
    repo.mkdir()
    (repo / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nEXTRAVERSION =\n")
    (repo / "a.c").write_text("".join(f"line {i}\n" for i in range(1, 40)))
    git_init(repo)
    git(repo, "tag", "harness-base")
    base = git(repo, "rev-parse", "HEAD")
    return SourceTree("t", "path", repo, base, git(repo, "rev-parse", "HEAD^{tree}"), "6.12", "test")


def make_patch(src: SourceTree, out: Path, old: str, new: str, subject: str) -> Path:
    """Create a format-patch file changing `old` to `new` in a.c, then undo it."""
    repo = src.repo
    a = repo / "a.c"
    a.write_text(a.read_text().replace(old, new))
    git(repo, "commit", "-qam", subject)
    out.mkdir(parents=True, exist_ok=True)
    name = git(repo, "format-patch", "-1", "-o", str(out), "--start-number",
               str(len(list(out.glob("*.patch"))) + 1)).splitlines()[-1]
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    return Path(name)


def write_series(folder: Path, names: list[str]) -> None:
    (folder / "series").write_text("# test series\n" + "\n".join(names) + "\n")


def test_clean_apply_makes_one_commit_per_patch(tmp_path):
    src = make_source(tmp_path)
    sdir = tmp_path / "patches"
    p1 = make_patch(src, sdir / "s", "line 3\n", "line three\n", "a: spell out three")
    write_series(sdir / "s", [p1.name])
    applied = apply_variant(src, "v", ["s"], sdir)
    assert git(src.repo, "rev-list", "--count", f"{src.base_commit}..{applied.commit}") == "1"
    assert "line three" in git(src.repo, "show", f"{applied.commit}:a.c")
    # unchanged input: same commit, nothing re-applied
    assert apply_variant(src, "v", ["s"], sdir).commit == applied.commit


def test_conflicting_patch_names_series_patch_file_and_hunk(tmp_path):
    src = make_source(tmp_path)
    sdir = tmp_path / "patches"
    good = make_patch(src, sdir / "s", "line 3\n", "line three\n", "a: spell out three")
    # a patch written against different content: its hunk cannot match
    (src.repo / "a.c").write_text((src.repo / "a.c").read_text().replace("line 20\n", "line twenty\n"))
    git(src.repo, "commit", "-qam", "tmp")
    bad = make_patch(src, sdir / "s", "line twenty\n", "line XX\n", "a: renumber twenty")
    git(src.repo, "reset", "-q", "--hard", src.base_commit)
    write_series(sdir / "s", [good.name, bad.name])
    with pytest.raises(PatchError) as exc:
        apply_variant(src, "v", ["s"], sdir)
    msg = str(exc.value)
    assert "series s" in msg and bad.name in msg and "a.c" in msg, msg
    # nothing half-applied: back on the base, no am in progress, no branch
    assert git(src.repo, "rev-parse", "HEAD") == src.base_commit
    assert not (src.repo / ".git/rebase-apply").exists()
    assert git(src.repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../x"])
def test_path_traversal_rejected(tmp_path, path):
    folder = tmp_path / "patches/evil"
    folder.mkdir(parents=True)
    (folder / "0001-evil.patch").write_text(
        f"From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] evil\n\n---\n"
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-x\n+y\n")
    write_series(folder, ["0001-evil.patch"])
    with pytest.raises(PatchError, match="outside the kernel tree"):
        read_series(tmp_path / "patches", "evil")


def test_binary_patch_rejected(tmp_path):
    folder = tmp_path / "patches/bin"
    folder.mkdir(parents=True)
    (folder / "0001-bin.patch").write_text(
        "Subject: [PATCH] bin\n\ndiff --git a/x.bin b/x.bin\nGIT binary patch\nliteral 4\nxxx\n")
    write_series(folder, ["0001-bin.patch"])
    with pytest.raises(PatchError, match="binary"):
        read_series(tmp_path / "patches", "bin")


def test_series_naming_missing_file(tmp_path):
    folder = tmp_path / "patches/s"
    folder.mkdir(parents=True)
    write_series(folder, ["0001-nope.patch"])
    with pytest.raises(PatchError, match=r"series:2: patch file '0001-nope.patch' not found"):
        read_series(tmp_path / "patches", "s")


def test_shipped_series_are_vetted(cfg):
    for v in cfg.variants.values():
        for s in v.series:
            assert read_series(cfg.series_dir, s), f"series {s} is empty"
