"""Kernel builds: one out-of-tree build per (variant, profile), cached by content key.

The key covers everything that decides the output (source id, patch hashes,
base config + fragment contents, compiler version, guest-module sources, the
harness's build recipe); an unchanged key means no `make` at all. All variants
of a source share one work tree (checked out under a lock) so ccache hits
across variants: the same file at the same path hashes the same.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.intake import patches as patches_mod
from harness.core.config import HarnessConfig, Profile, Variant, cache_root
from harness.core.errors import BuildError, HarnessError
from harness.build import kselftests as kselftests_mod
from harness.build.kconfig import ARCH, check_selftest_config, make_config, parse_config
from harness.build.make import first_errors, run_make
from harness.core.progress import Progress
from harness.intake.source import SourceTree, prepare_source
from harness.suites.kselftest import COLLECTIONS
from harness.core.util import (file_lock, git, read_json, run, sha256_file, sha256_text, sha256_tree,
                               write_json)

RECIPE_VERSION = "3"   # bump when the build steps below change meaning


@dataclass
class Build:
    variant: str
    profile: str
    key: str
    dir: Path
    objdir: Path
    release: str
    source: dict
    patches: list[dict]
    config_sha256: str
    compiler: str
    duration_s: float = 0.0
    built: bool = False      # True when this call ran make
    guest_modules: list[str] = field(default_factory=list)
    guest_programs: list[str] = field(default_factory=list)
    kernel_key: str = ""     # the key without the guest-module sources
    kselftests: list[str] = field(default_factory=list)   # "<collection>/<program>" under kselftest_dir
    commit: str = ""         # the source commit built (base + the variant's patches)

    @property
    def bzimage(self) -> Path:
        return self.objdir / "arch/x86/boot/bzImage"

    @property
    def vmlinux(self) -> Path:
        return self.objdir / "vmlinux"

    @property
    def modroot(self) -> Path:
        return self.dir / "modroot"

    @property
    def guest_dir(self) -> Path:
        return self.dir / "guest"

    @property
    def kselftest_dir(self) -> Path:
        return self.dir / kselftests_mod.OUT

    @property
    def config_path(self) -> Path:
        return self.objdir / ".config"

    def config(self) -> dict[str, str]:
        return parse_config(self.config_path.read_text())

    def read_source(self, path: str) -> str | None:
        """A file of the source tree as built (None when the tree has no such file)."""
        ref = self.commit or f"harness/{self.variant}"
        try:
            return git(Path(self.source["repo"]), "show", f"{ref}:{path}")
        except HarnessError:
            return None

    def to_json(self) -> dict:
        d = asdict(self)
        d["dir"], d["objdir"] = str(self.dir), str(self.objdir)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Build":
        d = dict(d)
        d["dir"], d["objdir"] = Path(d["dir"]), Path(d["objdir"])
        return cls(**d)


def compiler_version() -> str:
    return run(["gcc", "--version"]).stdout.splitlines()[0]


def guest_sources_hash(root: Path) -> str:
    gm = root / "guest-modules"
    return sha256_tree(gm) if gm.is_dir() else "none"


def build_key(source: SourceTree, applied, profile: Profile, compiler: str, guest_hash: str) -> str:
    return sha256_text(kernel_key(source, applied, profile, compiler) + "\n" + guest_hash)


def kernel_key(source: SourceTree, applied, profile: Profile, compiler: str) -> str:
    parts = [RECIPE_VERSION, source.tree_id, applied.key, profile.base,
             *(f"{f.name}:{sha256_file(f)}" for f in profile.fragments), compiler]
    return sha256_text("\n".join(parts))


def build_dir(variant: str, profile: str, cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "builds" / f"{variant}-{profile}"


def load_build(variant: str, profile: str, cache: Path | None = None) -> Build | None:
    d = read_json(build_dir(variant, profile, cache) / "build.json")
    return Build.from_json(d) if d else None


def _make_env(cache: Path) -> dict:
    ccache_dir = cache / "ccache"
    ccache_dir.mkdir(parents=True, exist_ok=True)
    return {"CCACHE_DIR": str(ccache_dir), "CCACHE_MAXSIZE": os.environ.get("CCACHE_MAXSIZE", "8G"),
            # same content at the same path across variants: share the entries
            "CCACHE_SLOPPINESS": "time_macros,include_file_mtime,include_file_ctime",
            # with -g ccache hashes the working directory (the O= folder, one per
            # variant), which would make every variant miss; the debug info of a
            # hit then names another build folder as comp_dir, which nothing uses
            "CCACHE_NOHASHDIR": "1",
            # depend mode: hash the inputs the compiler's own -MMD output lists
            # instead of running the preprocessor first; a cold compile then
            # costs ~3% over plain gcc instead of ~15% (kernel/sched/core.o:
            # gcc 3.1 s, ccache 3.6 s, ccache depend mode 3.2 s)
            "CCACHE_DEPEND": "1",
            "KBUILD_BUILD_TIMESTAMP": "2000-01-01", "KBUILD_BUILD_USER": "harness",
            "KBUILD_BUILD_HOST": "harness", "LC_ALL": "C"}


def _estimate_file(cache: Path) -> Path:
    return cache / "builds" / "estimates.json"


def ensure_build(cfg: HarnessConfig, variant: Variant, profile: Profile, *, force: bool = False,
                 cache: Path | None = None, jobs: int | None = None, log=None,
                 seed: Build | None = None) -> Build:
    """Return the build for (variant, profile), building only if its key changed.

    `seed`: a finished build of the same source and profile whose objects a
    first build of this variant starts from (a series' prefixes: only the files
    the prefixes differ in are compiled again, and vmlinux relinked).
    """
    cache = cache or cache_root()
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    source = prepare_source(cfg.sources[variant.source], cache)
    applied = patches_mod.apply_variant(source, variant.name, variant.series, cfg.series_dir,
                                         variant.patch_limit, extra_patches=variant.extra_patches,
                                         stacked_on=variant.stacked_on)
    compiler = compiler_version()
    # what is built against the kernel (guest modules, programs, kselftests): a change
    # there rebuilds only that, never the kernel
    ghash = guest_sources_hash(cfg.root) + "\n" + kselftests_mod.recipe_id()
    key = build_key(source, applied, profile, compiler, ghash)
    # A configured variant keeps its folder (rebuilt in place when its patches
    # change); a stacked one (a gated series, its prefixes) is named by what it
    # applies, so the same patches stacked on the same base share one build: a
    # series' prefix of k patches and the k-patch series gated on its own.
    name = f"{variant.stacked_on}+{applied.key[:12]}" if variant.stacked_on else variant.name
    bdir = build_dir(name, profile.name, cache)
    existing = load_build(name, profile.name, cache)
    if _reusable(existing, key, force):
        existing.commit = existing.commit or applied.commit
        existing.variant = variant.name
        return existing
    kkey = kernel_key(source, applied, profile, compiler)
    env = _make_env(cache)
    jobs = jobs or os.cpu_count() or 2
    if existing and existing.kernel_key == kkey and not force and existing.bzimage.exists():
        # only the guest modules/programs changed: rebuild just those
        t0 = time.monotonic()
        with file_lock(source.repo.parent / f".{source.repo.name}.lock"):
            done = load_build(name, profile.name, cache)   # built while we waited?
            if _reusable(done, key, force):
                done.variant = variant.name
                return done
            (bdir / "build.json").unlink(missing_ok=True)
            patches_mod.checkout(source, applied.commit)   # M= builds read the variant's headers
            say(f"build {variant.name}/{profile.name}: kernel up to date, rebuilding guest modules")
            with open(bdir / "build.log", "a") as logf:
                logf.write("\n=== guest modules rebuild ===\n")
            check_selftest_config(source.repo, COLLECTIONS, existing.config_path.read_text(), profile.name)
            existing.guest_modules, existing.guest_programs = build_guest(
                cfg.root, bdir, existing.objdir, source.repo, env, bdir / "build.log", jobs)
            existing.kselftests = kselftests_mod.build_kselftests(source.repo, existing.objdir, bdir, env, jobs,
                                                                  cfg.root / "guest-modules" / "kselftest")
            existing.key, existing.built, existing.commit = key, True, applied.commit
            existing.duration_s = round(time.monotonic() - t0, 1)
            # stamped before the lock goes: the next holder must see it done
            write_json(bdir / "build.json", existing.to_json())
        return existing

    objdir = bdir / "obj"
    bdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    log_path = bdir / "build.log"
    with file_lock(source.repo.parent / f".{source.repo.name}.lock"):
        # another harness may have built this very key while we waited for the
        # lock: use it; rebuilding would pull its files from under that harness
        done = load_build(name, profile.name, cache)
        if _reusable(done, key, force):
            done.commit = done.commit or applied.commit
            done.variant = variant.name
            return done
        # the marker goes first: a killed build must never look finished
        (bdir / "build.json").unlink(missing_ok=True)
        patches_mod.checkout(source, applied.commit)
        if seed is not None and seed.profile == profile.name and seed.objdir.is_dir() \
                and seed.source.get("repo") == str(source.repo) and not any(objdir.glob("kernel/*.o")):
            # Safe with make's mtime logic: the seed's objects were built from this
            # same work tree, and every file that differs now was rewritten by a
            # checkout since, so it is newer than the objects built from it.
            say(f"build {variant.name}/{profile.name}: starting from the objects of {seed.variant}")
            shutil.rmtree(objdir, ignore_errors=True)
            run(["cp", "-a", str(seed.objdir), str(objdir)])
        say(f"build {variant.name}/{profile.name}: configuring ({profile.base} + "
            f"{', '.join(f.name for f in profile.fragments)})")
        config_text = make_config(source.repo, objdir, profile, env)
        check_selftest_config(source.repo, COLLECTIONS, config_text, profile.name)
        estimates = read_json(_estimate_file(cache), {})
        full_build = not any(objdir.glob("kernel/*.o"))
        progress = Progress(f"build {variant.name}/{profile.name}", estimates.get(profile.name, 1700))
        make = ["make", "-C", str(source.repo), f"O={objdir}", f"ARCH={ARCH}", f"-j{jobs}",
                "CC=ccache gcc", "KBUILD_MODPOST_WARN=0"]
        with open(log_path, "w") as logf:
            rc = run_make(make + ["bzImage", "modules"], logf, env, progress)
            if rc == 0:
                shutil.rmtree(bdir / "modroot", ignore_errors=True)
                rc = run_make(make + ["modules_install", f"INSTALL_MOD_PATH={bdir / 'modroot'}",
                                      "INSTALL_MOD_STRIP=1", "DEPMOD=true"], logf, env, None)
        if rc != 0:
            text = log_path.read_text(errors="replace")
            progress.done("FAILED")
            raise BuildError(f"build of {variant.name}/{profile.name} failed (make exit {rc})",
                             log_path=log_path, errors=first_errors(text))
        if full_build:   # what a build from scratch counts, for the next one's progress
            estimates[profile.name] = progress.count
            write_json(_estimate_file(cache), estimates)
        release = (objdir / "include/config/kernel.release").read_text().strip()
        modules, programs = build_guest(cfg.root, bdir, objdir, source.repo, env, log_path, jobs)
        ksft = kselftests_mod.build_kselftests(source.repo, objdir, bdir, env, jobs,
                                               cfg.root / "guest-modules" / "kselftest")
        progress.done(f"done, {progress.count} objects")
        b = Build(variant=variant.name, profile=profile.name, key=key, dir=bdir, objdir=objdir,
                  release=release, source=source.identity(),
                  patches=[{"series": p.series, "file": p.path.name, "sha256": p.sha256,
                            "subject": p.subject} for p in applied.patches],
                  config_sha256=sha256_text(config_text), compiler=compiler,
                  duration_s=round(time.monotonic() - t0, 1), built=True,
                  guest_modules=modules, guest_programs=programs, kernel_key=kkey, commit=applied.commit,
                  kselftests=ksft)
        # the key is stamped last, and before the lock goes: a killed build never
        # looks finished, and a harness queued on the lock sees this one done
        write_json(bdir / "build.json", b.to_json())
    return b


def _reusable(b: Build | None, key: str, force: bool) -> bool:
    """Is this recorded build the one wanted, complete? (marks it not built now)"""
    if b is None or b.key != key or force or not b.bzimage.exists():
        return False
    b.built = False
    return True


def build_guest(root: Path, bdir: Path, objdir: Path, srctree: Path, env: dict, log_path: Path,
                jobs: int) -> tuple[list[str], list[str]]:
    """Out-of-tree modules (M=) and static guest programs, built into bdir/guest."""
    src = root / "guest-modules"
    dest = bdir / "guest"
    shutil.rmtree(dest, ignore_errors=True)
    if not src.is_dir():
        return [], []
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.o", "*.ko", ".*.cmd", "*.mod*"))
    modules, programs = [], []
    with open(log_path, "a") as logf:
        kmod = dest / "kmod"
        if (kmod / "Kbuild").is_file() or (kmod / "Makefile").is_file():
            rc = run_make(["make", "-C", str(objdir), f"M={kmod}", f"ARCH={ARCH}", f"-j{jobs}",
                            "CC=ccache gcc", f"HARNESS_SRCTREE={srctree}", "modules"], logf, env, None)
            if rc != 0:
                raise BuildError("guest modules failed to build against this kernel", log_path=log_path,
                                 errors=first_errors(log_path.read_text(errors="replace")))
            modules = sorted(p.name for p in kmod.glob("*.ko"))
        prog = dest / "prog"
        if (prog / "Makefile").is_file():
            rc = run_make(["make", "-C", str(prog), f"KERNEL_HEADERS={objdir}/usr/include",
                            f"KSRC={srctree}"], logf, env, None)
            if rc != 0:
                raise BuildError("guest programs failed to build", log_path=log_path,
                                 errors=first_errors(log_path.read_text(errors="replace")))
            programs = sorted(p.name for p in prog.iterdir() if p.is_file() and os.access(p, os.X_OK)
                              and not p.suffix)
    return modules, programs
