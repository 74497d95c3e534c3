"""Patch series: read `series` files, vet patches, apply them with `git am`.

A variant is a source plus an ordered list of series. Each variant lives on a
branch of the source repository (`harness/<variant>`), rebuilt only when the
patch files change, so applying is free after the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import PatchError
from harness.intake.source import SourceTree
from harness.core.util import file_lock, git, read_json, run, sha256_file, sha256_text, write_json, GIT_ENV


@dataclass(frozen=True)
class Patch:
    series: str
    path: Path
    sha256: str
    subject: str

    def describe(self) -> str:
        return f"{self.series}/{self.path.name}"


@dataclass(frozen=True)
class AppliedVariant:
    name: str
    commit: str
    patches: tuple[Patch, ...]
    key: str


_DIFF_PATH = re.compile(r"^(?:diff --git a/(\S+) b/(\S+)|(?:---|\+\+\+) (?:[ab]/)?(\S+)|"
                        r"(?:rename|copy) (?:from|to) (\S+))")


def _bad_path(p: str) -> bool:
    return p != "/dev/null" and (p.startswith("/") or ".." in Path(p).parts)


# Unicode controls that reorder how code displays (CVE-2021-42574, "Trojan
# Source"): a reviewer would read another program than the compiler does
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def vet_text(data: bytes, where: str) -> str:
    """Reject what `git am` should never see; returns the subject line.

    `where` names the patch in messages, e.g. "series 'x': file '0001-a.patch'".
    """
    text = data.decode("utf-8", errors="replace")
    subject = ""
    in_subject = False
    saw_diff = False
    for n, line in enumerate(text.splitlines(), 1):
        if in_subject and line[:1] in (" ", "\t"):
            subject += " " + line.strip()      # RFC 2822 folded header
            continue
        in_subject = False
        if not subject and line.startswith("Subject:"):
            subject = line[len("Subject:"):].strip()
            in_subject = True
        if line.startswith("GIT binary patch") or (line.startswith("Binary files ") and " differ" in line):
            raise PatchError(f"{where} line {n}: binary content is not accepted")
        m = _DIFF_PATH.match(line)
        if m:
            saw_diff = saw_diff or line.startswith("diff --git")
            for p in filter(None, m.groups()):
                if _bad_path(p):
                    raise PatchError(f"{where} line {n}: path {p!r} points outside the kernel tree")
        if line.startswith("+") and _BIDI.search(line):
            raise PatchError(f"{where} line {n}: adds a Unicode bidirectional control character "
                             f"(U+{ord(_BIDI.search(line).group()):04X}), which makes code read "
                             "differently from what compiles")
    if b"\0" in data:
        raise PatchError(f"{where}: contains NUL bytes (binary?)")
    if not saw_diff:
        raise PatchError(f"{where} is not a patch: it has no `diff --git` section "
                         "(expected `git format-patch` output)")
    return subject


def vet_patch(series: str, path: Path, listed_at: str = "") -> str:
    """vet_text for a patch file of a series folder; returns the subject line."""
    where = f"series {series!r}: file {path.name!r}" + (f" (listed at {listed_at})" if listed_at else "")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PatchError(f"{where}: cannot read it: {exc.strerror}") from None
    return vet_text(data, where)


def read_series(series_dir: Path, series: str) -> list[Patch]:
    folder = series_dir / series
    sfile = folder / "series"
    if not sfile.is_file():
        raise PatchError(f"series {series}: {sfile} does not exist")
    patches = []
    for n, line in enumerate(sfile.read_text().splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        name = name.split()[0]  # quilt allows options (-p1) after the name
        p = folder / name
        if p == sfile:
            raise PatchError(f"series {series}: {sfile}:{n}: the series file lists itself "
                             f"({name!r}); it names the patch files, it is not one")
        if _bad_path(name) or not p.is_file():
            raise PatchError(f"series {series}: {sfile}:{n}: patch file {name!r} not found in {folder}")
        subject = vet_patch(series, p, listed_at=f"{sfile}:{n}")
        patches.append(Patch(series=series, path=p, sha256=sha256_file(p), subject=subject))
    return patches


def _failed_hunk(repo: Path, patch: Path) -> str:
    """Ask `git apply` which file and hunk did not apply."""
    proc = run(["git", "-C", str(repo), "apply", "--check", "-v", str(patch)], check=False)
    out = (proc.stderr or "") + (proc.stdout or "")
    details = []
    cur_file = None
    for line in out.splitlines():
        if line.startswith("Checking patch "):
            cur_file = line[len("Checking patch "):].rstrip(".")
        m = re.match(r"error: while searching for:", line)
        if m and cur_file:
            details.append(f"file {cur_file}")
        m = re.match(r"error: patch failed: (.+):(\d+)", line)
        if m:
            details.append(f"{m.group(1)}: hunk at line {m.group(2)} does not match")
        m = re.match(r"Hunk #(\d+) (?:failed|NOT MERGED)", line)
        if m:
            details.append(f"hunk #{m.group(1)} failed")
        m = re.match(r"error: (.+): (does not exist in index|No such file or directory|already exists.*)", line)
        if m:
            details.append(f"{m.group(1)}: {m.group(2)}")
    rejected = [l for l in out.splitlines() if l.startswith("Applying patch") or "Rejected hunk" in l]
    # "file X" only where no hunk line names X already
    details = [d for d in details if not (d.startswith("file ") and any(
        e.startswith(d[5:] + ":") for e in details))]
    return "; ".join(dict.fromkeys(details + rejected)) or out.strip()[-800:]


def variant_key(source: SourceTree, patches: list[Patch]) -> str:
    return sha256_text(source.base_commit + "".join(p.sha256 for p in patches))


def read_extra(paths) -> list[Patch]:
    """Patch files given one by one (a gate's series stacked on a variant);
    their `series` is the folder holding them."""
    out = []
    for i, path in enumerate(paths, 1):
        path = Path(path)
        subject = vet_patch(path.parent.name, path, listed_at=f"stacked patch {i}/{len(paths)}")
        out.append(Patch(series=path.parent.name, path=path, sha256=sha256_file(path), subject=subject))
    return out


def variant_patches(series_list, series_dir: Path, extra_patches=(), limit: int | None = None) -> list[Patch]:
    """Every patch of a variant in the order it applies: its series, then the
    stacked patch files; `limit` keeps the first N of them all."""
    patches = [p for s in series_list for p in read_series(series_dir, s)] + read_extra(extra_patches)
    return patches[:limit]


def apply_variant(source: SourceTree, variant: str, series_list, series_dir: Path,
                  limit: int | None = None, extra_patches=(), stacked_on: str = "") -> AppliedVariant:
    """Make `harness/<variant>` = base + the series (+ extra patch files); returns its commit.

    `extra_patches` go after the series: a gate's series stacked on the
    configured variant `stacked_on` (named in errors). On any failure,
    an interrupt included, the repository is returned to its base: no
    half-applied tree, no am session, no branch of the failed variant.
    """
    in_series = [p for s in series_list for p in read_series(series_dir, s)]
    patches = (in_series + read_extra(extra_patches))[:limit]
    n_series = len(in_series)
    key = variant_key(source, patches)
    repo = source.repo
    branch = f"harness/{variant}"
    state_file = repo / ".git" / "harness-variants.json"
    known = read_json(state_file, {}).get(variant)
    if known and known.get("key") == key and git(repo, "rev-parse", "-q", "--verify", branch,
                                                check=False) == known.get("commit"):
        return AppliedVariant(variant, known["commit"], tuple(patches), key)  # no lock needed
    with file_lock(repo.parent / f".{repo.name}.lock"):
        state = read_json(state_file, {})
        known = state.get(variant)
        if known and known.get("key") == key and git(repo, "rev-parse", "-q", "--verify", branch,
                                                    check=False) == known.get("commit"):
            return AppliedVariant(variant, known["commit"], tuple(patches), key)
        # a leftover am session from a killed run would block the next one
        git(repo, "am", "--abort", check=False)
        git(repo, "checkout", "-q", "-f", "-B", branch, source.base_commit)
        try:
            for i, p in enumerate(patches, 1):
                proc = run(["git", "-C", str(repo), "am", "-q", "--committer-date-is-author-date",
                            "--keep-cr", str(p.path)], check=False, env=GIT_ENV)
                if proc.returncode != 0:
                    onto = git(repo, "rev-parse", "HEAD")
                    detail = _failed_hunk(repo, p.path)
                    raise PatchError(_not_applying(variant, source, series_list, p, i, n_series,
                                                   len(patches), len(extra_patches), onto, stacked_on,
                                                   detail))
            commit = git(repo, "rev-parse", "HEAD")
        except BaseException:
            git(repo, "am", "--abort", check=False)
            git(repo, "checkout", "-q", "-f", "--detach", source.base_commit)
            git(repo, "branch", "-D", branch, check=False)
            state.pop(variant, None)
            write_json(state_file, state)
            raise
        state[variant] = {"key": key, "commit": commit}
        write_json(state_file, state)
    return AppliedVariant(variant, commit, tuple(patches), key)


def _not_applying(variant: str, source: SourceTree, series_list, p: Patch, i: int, n_series: int,
                  n_all: int, n_stacked: int, onto: str, stacked_on: str, detail: str) -> str:
    """Which patch, which file and hunk, and on which base (variant, commit)."""
    base = f"{source.name} {source.base_commit[:12]}"
    if i > n_series:      # a stacked patch: number it within the stacked series
        k, n = i - n_series, n_stacked
        on = stacked_on or "the variant"
        below = f" + {', '.join(series_list)}" if series_list else ""
        return (f"variant {variant}: patch {k}/{n} {_bare(p.subject)!r} (file {p.path.name!r}) does not apply "
                f"on {on} ({base}{below}, commit {onto[:12]}): {detail}")
    return (f"variant {variant}: series {p.series}: patch {p.path.name!r} ({i}/{n_all}, {p.subject!r}) "
            f"does not apply on {base}" + (f" + {i - 1} earlier patch(es) (commit {onto[:12]})" if i > 1 else "")
            + f": {detail}")


def _bare(subject: str) -> str:
    """A subject without its [PATCH ...] prefixes."""
    return re.sub(r"^(\s*\[[^]]*\])+\s*", "", subject)


def checkout(source: SourceTree, commit: str) -> None:
    """Point the shared work tree at a commit (the build lock must be held)."""
    repo = source.repo
    if git(repo, "rev-parse", "HEAD") != commit or git(repo, "status", "--porcelain", "-uno"):
        git(repo, "checkout", "-q", "-f", "--detach", commit)
