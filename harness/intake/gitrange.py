"""The git range intake: `BASE..TIP` in the user's kernel tree.

The range is the series (`git format-patch` into a temporary folder), the
tree at BASE is its source (harness/intake/stack.py clones it into the cache
at BASE). Only read-only git commands run in the user's repository: no
checkout, no index refresh (`git status` would write the index), no stash.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from harness.core.errors import InputError
from harness.core.util import run
from harness.intake.folder import patch_from_file
from harness.intake.series import Series

# the user's git config must not change what format-patch writes (prefixes
# `git am -p1` relies on, a cover letter, a signature with a version in it)
_FORMAT_PATCH_CONFIG = ["-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
                        "-c", "format.coverLetter=false", "-c", "format.signature=",
                        "-c", "format.thread=false", "-c", "diff.relative=false"]
_RANGE = re.compile(r"^(?P<base>[^.\s][^\s]*?)\.\.(?P<tip>[^.\s][^\s]*)$")


def looks_like_range(arg: str) -> bool:
    return bool(_RANGE.match(arg)) and "..." not in arg


def _git(tree: Path, *args: str, check: bool = False):
    # read-only: GIT_OPTIONAL_LOCKS=0 keeps even `rev-parse` from refreshing the index
    return run(["git", "-C", str(tree), *args], check=check,
               env={"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"})


def kernel_tree(tree: Path | None, what: str) -> Path:
    """The top of the kernel git tree `tree` (default: the current directory)."""
    given = tree is not None
    path = Path(tree if given else os.getcwd()).expanduser().resolve()
    hint = "" if given else " (give the tree with --tree PATH)"
    proc = _git(path, "rev-parse", "--show-toplevel") if path.is_dir() else None
    if proc is None or proc.returncode != 0:
        raise InputError(f"{what}: {path} is not a git tree{hint}")
    top = Path(proc.stdout.strip())
    try:
        head = (top / "Makefile").read_text(errors="replace")[:2000]
    except OSError:
        head = ""
    if not re.search(r"^VERSION = \d+", head, re.M) or not re.search(r"^PATCHLEVEL = \d+", head, re.M):
        raise InputError(f"{what}: {top} is not a kernel tree (its Makefile has no VERSION/PATCHLEVEL){hint}")
    return top


def _commit(tree: Path, rev: str, spec: str) -> str:
    proc = _git(tree, "rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}")
    if proc.returncode != 0 or not proc.stdout.strip():
        raise InputError(f"git range {spec!r}: {rev!r} is not a commit in {tree}")
    return proc.stdout.strip()


def read_git_range(spec: str, tree: Path | None = None) -> Series:
    m = _RANGE.match(spec)
    if not m or "..." in spec:
        raise InputError(f"git range {spec!r}: expected BASE..TIP (two dots)")
    top = kernel_tree(tree, f"git range {spec!r}")
    base = _commit(top, m.group("base"), spec)
    tip = _commit(top, m.group("tip"), spec)
    if _git(top, "merge-base", "--is-ancestor", base, tip).returncode != 0:
        raise InputError(f"git range {spec!r}: {m.group('base')} ({base[:12]}) is not an ancestor of "
                         f"{m.group('tip')} ({tip[:12]}) in {top}: the range would not apply on its base")
    revs = _git(top, "rev-list", "--reverse", "--parents", f"{base}..{tip}", check=True).stdout.split("\n")
    commits = [line.split() for line in revs if line.strip()]
    if not commits:
        raise InputError(f"git range {spec!r}: no commits between {base[:12]} and {tip[:12]} in {top}")
    merges = [c[0] for c in commits if len(c) > 2]
    if merges:
        raise InputError(f"git range {spec!r}: contains merge commit(s) "
                         + ", ".join(c[:12] for c in merges[:5])
                         + "; a series is a line of commits (rebase it, or give a range without merges)")
    with tempfile.TemporaryDirectory(prefix="harness-range-") as tmp:
        proc = run(["git", *_FORMAT_PATCH_CONFIG, "-C", str(top), "format-patch", "-q", "--no-cover-letter",
                    "--no-thread", "--no-signature", "-o", tmp, f"{base}..{tip}"], check=False,
                   env={"GIT_OPTIONAL_LOCKS": "0"})
        if proc.returncode != 0:
            raise InputError(f"git range {spec!r}: `git format-patch` failed in {top}: "
                             f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        files = sorted(Path(tmp).glob("*.patch"))
        if len(files) != len(commits):
            raise InputError(f"git range {spec!r}: {len(commits)} commits but `git format-patch` wrote "
                             f"{len(files)} patches (empty commits?)")
        patches = tuple(patch_from_file(f.read_bytes(), f.name, i,
                                        f"git range {spec!r}: commit {c[0][:12]} ({i}/{len(files)})")
                        for i, (f, c) in enumerate(zip(files, commits), 1))
    return Series(patches=patches, source="git-range", origin=f"{top}:{spec}", base_commit=base,
                  tree=str(top))
