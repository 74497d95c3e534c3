"""The checks' own corner of the cache: a work tree that walks a series prefix by prefix.

`<cache>/checks/<profile>/` holds

* the source is the shared work tree of the source repository, taken under
  the same lock every build takes (so nothing else checks out a commit while
  the checks walk the series), not a work tree of its own: the compiler's
  command lines then name the same paths as every other build's, so ccache's
  entries of the variants' builds serve the checks too (a private work tree
  made the checks' first build a cold 16-minute one). `git checkout` of the
  next prefix rewrites only the files the patch changes, so make rebuilds only
  what depends on them, and every file changed since the checks' objects were
  built was rewritten by a checkout since, so it is newer than them;
* `obj/`: the objdir of the full build at each prefix (incremental; ccache
  makes recompiled-but-unchanged objects hits);
* `obj-single/`: the objdir of the single-object W=1/sparse compiles, kept
  apart so that their different command lines never make the full build
  recompile (and relink) anything;
* `guest/`: the guest modules built against `obj/`.

One run at a time per profile (a lock file), since the work tree and the
objdirs are walked through the series in place.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import PatchError
from harness.core.util import GIT_ENV, file_lock, git, read_json, run, sha256_file, sha256_text, write_json


@dataclass(frozen=True)
class Change:
    status: str      # git's letter: A, M, D, R, C, T
    path: str        # the path after the patch (before it for D)
    old_path: str | None = None


class ChecksArea:
    def __init__(self, cache: Path, profile: str, repo: Path):
        self.root = Path(cache) / "checks" / profile
        self.src = Path(repo)
        self.obj = self.root / "obj"
        self.obj_single = self.root / "obj-single"
        self.guest = self.root / "guest"

    @contextlib.contextmanager
    def lock(self):
        """This profile's checks area, and the source's work tree (the build lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.root / ".lock"), file_lock(self.src.parent / f".{self.src.name}.lock"):
            git(self.src, "am", "--abort", check=False)   # a killed run's am session
            yield self

    # -- the work tree ------------------------------------------------------

    def checkout(self, commit: str) -> None:
        if git(self.src, "rev-parse", "HEAD", check=False) != commit or \
                git(self.src, "status", "--porcelain", "-uno"):
            git(self.src, "checkout", "-q", "-f", "--detach", commit)

    def apply(self, base: str, patches: list[Path]) -> list[str]:
        """Commits of the prefixes: [base, base+1, ..., base+n]; a patch that does not apply
        is a PatchError naming it and the hunk."""
        if not git(self.src, "rev-parse", "-q", "--verify", f"{base}^{{commit}}", check=False):
            raise PatchError(f"base commit {base!r} is not in the source repository")
        base = git(self.src, "rev-parse", f"{base}^{{commit}}")
        key = sha256_text(base + "".join(sha256_file(p) for p in patches))
        state = read_json(self.root / "applied.json", {})
        known = state.get(key)
        if known and all(_exists(self.src, c) for c in known):
            return list(known)
        git(self.src, "am", "--abort", check=False)
        self.checkout(base)
        commits = [base]
        for i, p in enumerate(patches, 1):
            proc = run(["git", "-C", str(self.src), "am", "-q", "--committer-date-is-author-date",
                        "--keep-cr", str(p)], check=False, env=GIT_ENV)
            if proc.returncode != 0:
                detail = _failed_hunks(self.src, p)
                git(self.src, "am", "--abort", check=False)
                git(self.src, "checkout", "-q", "-f", "--detach", base)
                raise PatchError(f"patch {i}/{len(patches)} {p.name} does not apply on "
                                 f"{commits[-1][:12]}: {detail}")
            commits.append(git(self.src, "rev-parse", "HEAD"))
        # the last few series (tests and re-runs alternate); their commits stay
        # reachable through this worktree's reflog, and the repository never gcs
        state = {k: v for k, v in list(state.items())[-7:]} | {key: commits}
        write_json(self.root / "applied.json", state)
        return commits

    # -- reading the history -------------------------------------------------

    def show(self, commit: str, path: str) -> str | None:
        proc = run(["git", "-C", str(self.src), "show", f"{commit}:{path}"], check=False)
        return proc.stdout if proc.returncode == 0 else None

    def read(self, path: str) -> str | None:
        """A file of the work tree as checked out now."""
        try:
            return (self.src / path).read_text(errors="replace")
        except (OSError, ValueError):
            return None

    def kconfig_id(self, commit: str) -> str:
        """A content id of what decides a .config at `commit`: every Kconfig file, the
        config fragments of the tree (tinyconfig's tiny.config ...) and scripts/kconfig."""
        out = git(self.src, "ls-tree", "-r", commit)
        keep = []
        for line in out.splitlines():
            meta, _, path = line.partition("\t")
            name = path.rsplit("/", 1)[-1]
            if name.startswith("Kconfig") or path.startswith("scripts/kconfig/") or \
                    (path.endswith(".config") and "/configs/" in "/" + path):
                keep.append(f"{meta.split()[2]} {path}")
        return sha256_text("\n".join(keep))

    def changes(self, old: str, new: str) -> list[Change]:
        out = git(self.src, "diff", "--name-status", "-M", old, new)
        changes = []
        for line in out.splitlines():
            parts = line.split("\t")
            st = parts[0][:1]
            if st in ("R", "C") and len(parts) == 3:
                changes.append(Change(st, parts[2], parts[1]))
            elif len(parts) >= 2:
                changes.append(Change(st, parts[1]))
        return changes

    def diff(self, old: str, new: str) -> str:
        return git(self.src, "diff", "-U0", old, new)

    def subject(self, commit: str) -> str:
        return git(self.src, "log", "-1", "--format=%s", commit)


def _exists(repo: Path, commit: str) -> bool:
    return run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode == 0


def _failed_hunks(repo: Path, patch: Path) -> str:
    """What `git apply --check` says about the patch, short."""
    proc = run(["git", "-C", str(repo), "apply", "--check", str(patch)], check=False)
    lines = [l for l in (proc.stderr or proc.stdout or "").splitlines() if l.startswith("error:")]
    if not lines:
        return "git am failed"
    return "; ".join(l[len("error: "):] for l in lines[:4])

