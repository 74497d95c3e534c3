"""Kernel sources: Debian's linux-source tarball, a local tree, or a git URL.

Every source ends up as a git repository in the cache with a base commit; the
patch stage checks variants out of it. The user's own tree is never modified:
it is cloned (`--shared`) into the cache, uncommitted changes included.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.core.config import SourceSpec, cache_root
from harness.core.errors import ConfigError, HarnessError
from harness.core.util import file_lock, git, read_json, run, sha256_text, write_json


@dataclass(frozen=True)
class SourceTree:
    name: str
    kind: str
    repo: Path          # git repository + the (shared) work tree builds use
    base_commit: str
    tree_id: str        # git tree hash of the base: a content id
    version: str        # kernel version from the Makefile, e.g. 6.12.117
    origin: str         # tarball + package version, path, or url@ref

    def identity(self) -> dict:
        return asdict(self) | {"repo": str(self.repo)}


def kernel_version(tree: Path) -> str:
    fields = {}
    try:
        with open(tree / "Makefile") as f:
            for line in f:
                for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
                    if line.startswith(k + " ="):
                        fields.setdefault(k, line.split("=", 1)[1].strip())
                if len(fields) == 4:
                    break
    except OSError:
        raise HarnessError(f"{tree} has no kernel Makefile: not a kernel source tree") from None
    v = f"{fields.get('VERSION', '?')}.{fields.get('PATCHLEVEL', '?')}"
    if fields.get("SUBLEVEL", "0") != "0":
        v += "." + fields["SUBLEVEL"]
    return v + fields.get("EXTRAVERSION", "")


def _commit_all(repo: Path, message: str) -> None:
    git(repo, "init", "-q", "-b", "base")
    git(repo, "config", "core.autocrlf", "false")
    git(repo, "config", "gc.auto", "0")
    git(repo, "add", "-A", "-f")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    git(repo, "tag", "-f", "harness-base")


def _debian(spec: SourceSpec, dest: Path) -> str:
    pkg = spec.debian
    tarball = Path("/usr/src") / f"{pkg}.tar.xz"
    if not tarball.exists():
        raise ConfigError(f"{tarball} not found: install the Debian package {pkg} (`make deps`)",
                          key=f"sources.{spec.name}.debian", line=spec.line)
    pkgver = run(["dpkg-query", "-W", "-f=${Version}", pkg], check=False).stdout.strip() or "?"
    origin = f"{tarball} ({pkg} {pkgver})"
    marker = read_json(dest / ".git" / "harness-source.json", {})
    if marker.get("origin") == origin:
        return origin
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    t0 = time.monotonic()
    print(f"source {spec.name}: unpacking {tarball} into {dest} and committing it "
          "(once per package version; about a minute)", file=sys.stderr, flush=True)
    try:
        # tar(1) with xz is faster than tarfile; the archive has one top folder
        run(["tar", "-C", str(tmp), "-xf", str(tarball)])
        (top,) = [p for p in tmp.iterdir()]
        _commit_all(top, f"{pkg} {pkgver}\n\nUnpacked from {tarball}.")
        write_json(top / ".git" / "harness-source.json", {"origin": origin})
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(top, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"source {spec.name}: ready ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)
    return origin


def _path(spec: SourceSpec, dest: Path) -> str:
    src = Path(spec.path).expanduser().resolve()
    if not (src / "Makefile").is_file():
        raise ConfigError(f"{src} is not a kernel source tree (no Makefile)",
                          key=f"sources.{spec.name}.path", line=spec.line)
    if (src / ".git").exists():
        head = git(src, "rev-parse", "HEAD")
        dirty = git(src, "diff", "HEAD", "--binary")
        origin = f"{src}@{head}" + (f"+dirty:{sha256_text(dirty)[:12]}" if dirty else "")
        if read_json(dest / ".git" / "harness-source.json", {}).get("origin") == origin:
            return origin
        shutil.rmtree(dest, ignore_errors=True)
        run(["git", "clone", "-q", "--shared", "--no-checkout", str(src), str(dest)])
        git(dest, "checkout", "-q", "-B", "base", head)
        if dirty:
            git(dest, "apply", "--index", input=dirty + "\n")
            git(dest, "commit", "-q", "-m", "uncommitted changes of " + str(src))
        git(dest, "tag", "-f", "harness-base")
    else:
        origin = f"{src} (copy, {os.stat(src / 'Makefile').st_mtime_ns})"
        if read_json(dest / ".git" / "harness-source.json", {}).get("origin") == origin:
            return origin
        shutil.rmtree(dest, ignore_errors=True)
        run(["rsync", "-a", "--exclude=.git", f"{src}/", f"{dest}/"])
        _commit_all(dest, f"copy of {src}")
    write_json(dest / ".git" / "harness-source.json", {"origin": origin})
    return origin


def _git(spec: SourceSpec, dest: Path) -> str:
    url, ref = spec.git.url, spec.git.ref
    origin = f"{url}@{ref}"
    if read_json(dest / ".git" / "harness-source.json", {}).get("origin") == origin:
        return origin
    shutil.rmtree(dest, ignore_errors=True)
    if Path(url).is_dir():
        # a local repository (a git range's tree at its BASE): borrow its
        # objects instead of copying them; only reads the user's repository
        proc = run(["git", "clone", "-q", "--shared", "--no-checkout", url, str(dest)], check=False,
                   env={"GIT_TERMINAL_PROMPT": "0"})
        if proc.returncode != 0:
            raise ConfigError(f"cannot clone {url}: {proc.stderr.strip()}",
                              key=f"sources.{spec.name}.git", line=spec.line)
        if git(dest, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False) == "":
            shutil.rmtree(dest, ignore_errors=True)
            raise ConfigError(f"{ref!r} is not a commit in {url}", key=f"sources.{spec.name}.git",
                              line=spec.line)
        git(dest, "checkout", "-q", "-B", "base", ref)
        git(dest, "config", "gc.auto", "0")
        git(dest, "tag", "-f", "harness-base")
        write_json(dest / ".git" / "harness-source.json", {"origin": origin})
        return origin
    proc = run(["git", "clone", "-q", "--depth", "1", "--branch", ref, url, str(dest)],
               check=False, env={"GIT_TERMINAL_PROMPT": "0"})
    if proc.returncode != 0:
        proc = run(["git", "clone", "-q", url, str(dest)], check=False, env={"GIT_TERMINAL_PROMPT": "0"})
        if proc.returncode != 0:
            raise ConfigError(f"cannot clone {url}: {proc.stderr.strip()}",
                              key=f"sources.{spec.name}.git", line=spec.line)
        git(dest, "checkout", "-q", ref)
    git(dest, "checkout", "-q", "-B", "base")
    git(dest, "tag", "-f", "harness-base")
    write_json(dest / ".git" / "harness-source.json", {"origin": origin})
    return origin


def _ready(spec: SourceSpec, dest: Path) -> SourceTree | None:
    """The prepared source, without taking the lock (a build may hold it for minutes).

    Only for sources whose identity cannot have moved: an unpacked Debian
    tarball of the installed package version, or a git URL@ref already cloned.
    """
    marker = read_json(dest / ".git" / "harness-source.json", {})
    if not marker or spec.kind == "path":
        return None
    if spec.kind == "debian":
        pkgver = run(["dpkg-query", "-W", "-f=${Version}", spec.debian], check=False).stdout.strip() or "?"
        if marker.get("origin") != f"/usr/src/{spec.debian}.tar.xz ({spec.debian} {pkgver})":
            return None
    elif marker.get("origin") != f"{spec.git.url}@{spec.git.ref}":
        return None
    base = git(dest, "rev-parse", "-q", "--verify", "harness-base", check=False)
    if not base:
        return None
    return SourceTree(name=spec.name, kind=spec.kind, repo=dest, base_commit=base,
                      tree_id=git(dest, "rev-parse", "harness-base^{tree}"),
                      version=kernel_version(dest), origin=marker["origin"])


def prepare_source(spec: SourceSpec, cache: Path | None = None) -> SourceTree:
    """Make the source available as a git repository in the cache (once)."""
    cache = cache or cache_root()
    key = spec.debian or sha256_text(spec.path or f"{spec.git.url}@{spec.git.ref}")[:16]
    dest = cache / "src" / f"{spec.kind}-{key}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    ready = _ready(spec, dest)
    if ready:
        return ready
    with file_lock(dest.parent / f".{dest.name}.lock"):
        origin = {"debian": _debian, "path": _path, "git": _git}[spec.kind](spec, dest)
        base = git(dest, "rev-parse", "harness-base")
        tree = git(dest, "rev-parse", "harness-base^{tree}")
        version = kernel_version(dest)
    return SourceTree(name=spec.name, kind=spec.kind, repo=dest, base_commit=base,
                      tree_id=tree, version=version, origin=origin)
