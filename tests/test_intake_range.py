"""The git range intake on a throwaway kernel-like repository: the range is
the series, the user's tree is never modified (status, HEAD, branches,
stash, index), and a range that is not in the tree is an InputError naming it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.intake.gitrange import read_git_range
from harness.intake.read import read_series_arg
from tests.conftest import git_init

ENV = dict(os.environ, GIT_AUTHOR_NAME="Ann Author", GIT_AUTHOR_EMAIL="ann@example.org",
           GIT_COMMITTER_NAME="Ann Author", GIT_COMMITTER_EMAIL="ann@example.org")


def sh(repo: Path, *args: str) -> str:
    # GIT_OPTIONAL_LOCKS=0: `git status` here must not refresh (rewrite) the index,
    # or the snapshot would change what it measures
    return subprocess.run(["git", "-C", str(repo), *args], check=True, env=ENV | {"GIT_OPTIONAL_LOCKS": "0"},
                          capture_output=True, text=True).stdout.strip()


def commit(repo: Path, path: str, old: str, new: str, subject: str) -> str:
    f = repo / path
    f.write_text(f.read_text().replace(old, new))
    sh(repo, "commit", "-qam", f"{subject}\n\nWhy: a test commit.\n\nSigned-off-by: Ann Author <ann@example.org>")
    return sh(repo, "rev-parse", "HEAD")


def kernel_repo(tmp: Path) -> Path:
    """A tiny kernel-like tree: Makefile with a version, one file; base + 2 commits,
    a second branch, a stash entry, an uncommitted change and an untracked file."""
    repo = tmp / "linux"
    repo.mkdir()
    (repo / "Makefile").write_text("# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nEXTRAVERSION =\n")
    (repo / "a.c").write_text("".join(f"int line{i};\n" for i in range(1, 40)))
    (repo / "b.c").write_text("int b;\n")
    git_init(repo)
    sh(repo, "tag", "v6.12")
    commit(repo, "a.c", "int line3;\n", "int line_three;\n", "a: spell out three")
    commit(repo, "a.c", "int line30;\n", "int line_thirty;\n", "a: spell out thirty")
    sh(repo, "branch", "topic", "HEAD~1")
    (repo / "b.c").write_text("int b = 1;\n")
    sh(repo, "stash", "-q")
    (repo / "a.c").write_text((repo / "a.c").read_text() + "/* uncommitted */\n")
    (repo / "untracked.txt").write_text("mine\n")
    return repo


def snapshot(repo: Path) -> dict:
    """Everything a read-only intake must leave exactly as it was."""
    index = (repo / ".git" / "index")
    return {"status": sh(repo, "status", "--porcelain", "--untracked-files=all"),
            "head": sh(repo, "rev-parse", "HEAD"), "symbolic": sh(repo, "symbolic-ref", "HEAD"),
            "refs": sh(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
            "stash": sh(repo, "stash", "list"),
            "index": hashlib.sha256(index.read_bytes()).hexdigest(), "index_mtime": index.stat().st_mtime_ns,
            "worktree": {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file()},
            "git_files": sorted(p.name for p in (repo / ".git").iterdir())}


@pytest.fixture
def repo(tmp_path):
    r = kernel_repo(tmp_path)
    subprocess.run(["git", "-C", str(r), "status", "-s"], check=True, capture_output=True)  # refresh now
    return r


def test_range_is_the_series_and_tree_untouched(repo):
    before = snapshot(repo)
    s = read_git_range("v6.12..main", repo)
    assert snapshot(repo) == before
    assert [p.subject for p in s.patches] == ["a: spell out three", "a: spell out thirty"]
    assert [p.commit for p in s.patches] == sh(repo, "rev-list", "--reverse", "v6.12..main").split()
    assert all(p.author == "Ann Author <ann@example.org>" and p.message_id is None for p in s.patches)
    assert [(p.number, p.total) for p in s.patches] == [(1, 2), (2, 2)]
    assert s.base_commit == sh(repo, "rev-parse", "v6.12") and s.tree == str(repo)
    assert s.source == "git-range" and s.origin == f"{repo}:v6.12..main"
    # the uncommitted change is not part of the series
    assert all(b"uncommitted" not in p.data for p in s.patches)


def test_default_tree_is_the_current_directory(repo, monkeypatch):
    (repo / "drivers").mkdir()
    monkeypatch.chdir(repo / "drivers")   # inside the tree, not at its top
    assert len(read_series_arg("v6.12..topic").patches) == 1


def test_user_format_config_does_not_change_the_patches(repo):
    plain = read_git_range("v6.12..main", repo)
    sh(repo, "config", "diff.noprefix", "true")
    sh(repo, "config", "format.coverLetter", "true")
    sh(repo, "config", "format.signature", "my signature 1.0")
    assert [p.data for p in read_git_range("v6.12..main", repo).patches] == [p.data for p in plain.patches]


@pytest.mark.parametrize("spec,message", [
    ("v6.11..main", r"'v6.11' is not a commit in"),
    ("v6.12..nope", r"'nope' is not a commit in"),
    ("main..v6.12", r"main \([0-9a-f]{12}\) is not an ancestor of v6.12"),
    ("main..main", r"no commits between"),
    ("v6.12...main", r"expected BASE..TIP"),
])
def test_ranges_not_in_the_tree(repo, spec, message):
    before = snapshot(repo)
    with pytest.raises(InputError, match=message) as exc:
        read_git_range(spec, repo)
    assert repr(spec) in str(exc.value)
    assert snapshot(repo) == before


def test_merge_in_range_rejected(repo):
    sh(repo, "stash", "-q")       # a clean tree for the merge
    sh(repo, "checkout", "-q", "-b", "side", "v6.12")
    commit(repo, "b.c", "int b;\n", "int b2;\n", "b: rename")
    sh(repo, "checkout", "-q", "main")
    sh(repo, "merge", "-q", "--no-edit", "side")
    with pytest.raises(InputError, match="contains merge commit"):
        read_git_range("v6.12..main", repo)


def test_not_a_kernel_tree(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "README").write_text("x\n")
    git_init(plain)
    with pytest.raises(InputError, match="is not a kernel tree"):
        read_git_range("HEAD~0..HEAD", plain)
    with pytest.raises(InputError, match=r"is not a git tree \(give the tree with --tree PATH\)"):
        os.chdir(tmp_path)
        read_series_arg("v1..v2")
