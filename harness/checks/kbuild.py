"""The make invocations of the checks: the full build of a prefix, and single objects.

The full build is the recipe of harness/build/kernel.py (ccache, the same
environment, so ccache entries are shared) in the checks' own objdir:
`vmlinux modules` (the kernel linked, with its modules and modpost; the
bzImage packaging around vmlinux is left to the gate's runtime build), then
the guest modules against it (`build_guest`, M=). It can run in the
background (`start_build`) while single objects are compiled in a second
objdir, with `make -O` so each object's diagnostics come out in one piece
after its quiet-command line:

* W=1: `make W=1 <objs>`, after deleting those objects so that gcc really
  runs (an object left up to date by an earlier run would print nothing and
  look clean); ccache replays the warnings of a hit;
* sparse: `make C=2 CF=-fdiagnostic-prefix <objs>` (C=2 checks the sources
  whether or not they are rebuilt; with W=1 too when warnings are checked,
  as the kernel test robot runs it, so no object is recompiled for it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.build.kconfig import ARCH
from harness.build.kernel import _make_env, build_guest
from harness.core.errors import HarnessError
from harness.core.util import write_atomic

SPARSE = "sparse"
SPARSE_FLAGS = "-fdiagnostic-prefix -fmax-warnings=unlimited"
BUILD_TARGETS = ("vmlinux", "modules")


@dataclass
class MakeRun:
    returncode: int
    log_path: Path
    duration_s: float

    @property
    def text(self) -> str:
        return self.log_path.read_text(errors="replace")


class Running:
    """A make started in the background; `wait()` gives its MakeRun, `kill()` stops it and its children."""

    def __init__(self, cmd: list[str], log_path: Path, env: dict):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self._log.write("$ " + " ".join(cmd) + "\n")
        self._log.flush()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=dict(os.environ) | env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self) -> MakeRun:
        try:
            rc = self.proc.wait()
        except BaseException:
            self.kill()
            raise
        finally:
            self._log.close()
        return MakeRun(rc, self.log_path, round(time.monotonic() - self.t0, 2))

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self._log.close()


class Kbuild:
    def __init__(self, srctree: Path, objdir: Path, single_objdir: Path, cache: Path, jobs: int | None = None):
        self.srctree, self.objdir, self.single_objdir = Path(srctree), Path(objdir), Path(single_objdir)
        self.env = _make_env(Path(cache))
        self.jobs = jobs or os.cpu_count() or 2

    def _cmd(self, objdir: Path, args: list[str]) -> list[str]:
        return ["make", "-C", str(self.srctree), f"O={objdir}", f"ARCH={ARCH}", f"-j{self.jobs}",
                "CC=ccache gcc", "KBUILD_MODPOST_WARN=0", *args]

    def start_build(self, log_path: Path) -> Running:
        """The full incremental build of what is checked out, in the background."""
        return Running(self._cmd(self.objdir, list(BUILD_TARGETS)), log_path, self.env)

    def build(self, log_path: Path) -> MakeRun:
        return self.start_build(log_path).wait()

    def build_guest_modules(self, guest_root: Path, area_dir: Path, log_path: Path) -> tuple[list[str], list[str]]:
        """The harness's guest modules/programs against this objdir; BuildError when they break."""
        with open(log_path, "a") as logf:
            logf.write("\n=== guest modules ===\n")
        return build_guest(guest_root, area_dir, self.objdir, self.srctree, self.env, log_path, self.jobs)

    def sync_single_config(self) -> None:
        """The single-object objdir gets the full build's .config (kbuild syncs the rest)."""
        src = self.objdir / ".config"
        dst = self.single_objdir / ".config"
        if not src.is_file():
            raise HarnessError(f"{src} is missing: the checks objdir was never configured")
        self.single_objdir.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if not dst.is_file() or dst.read_bytes() != data:
            write_atomic(dst, data)

    def compile_w1(self, objects: list[str], log_path: Path) -> MakeRun:
        for o in objects:
            (self.single_objdir / o).unlink(missing_ok=True)
        return Running(self._cmd(self.single_objdir, ["-k", "--output-sync=target", "W=1", *objects]),
                       log_path, self.env).wait()

    def sparse(self, objects: list[str], log_path: Path, w1: bool) -> MakeRun:
        if shutil.which(SPARSE) is None:
            raise HarnessError("sparse is not installed")
        args = ["-k", "--output-sync=target", "C=2", f"CF={SPARSE_FLAGS}"] + (["W=1"] if w1 else [])
        return Running(self._cmd(self.single_objdir, args + objects), log_path, self.env).wait()
