"""Upstream kselftests, built from a variant's own tree for its busybox guest.

Each collection of harness.suites.kselftest.COLLECTIONS is built with its own
Makefile (tools/testing/selftests/lib.mk) and installed under
<build>/kselftests/<collection>/:

* against the variant's `make headers_install` (KHDR_INCLUDES), so a series
  that changes a uapi header is tested with the header it ships;
* statically (USERLDFLAGS=-static): the guest has busybox and no libc;
* with stdout line-buffered from a constructor linked in (what runner.sh
  gets from `stdbuf -oL`, which cannot reach a static binary): a program
  that crashes mid-suite still shows every result it printed.

Programs of ours that reuse a collection's objects (guest-modules/kselftest/,
see EXTRA_PROGRAMS) are built next to the collection's own: sync_functional
is sync_test without its stress tests, which take minutes under TCG.

Runs under the build's source lock, with the variant checked out.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from harness.build.kconfig import ARCH
from harness.build.make import first_errors, run_make
from harness.core.errors import BuildError
from harness.suites.kselftest import COLLECTIONS, SELFTESTS_DIR

RECIPE = "2"   # bump when the steps below change what is built
OUT = "kselftests"          # <build dir>/kselftests/<collection>/<program>
OBJ = "kselftests-obj"      # objects and logs, per collection

# collection -> programs built from guest-modules/kselftest/<name>.c and the objects the
# collection's Makefile left in its OUTPUT folder (but the one that has main())
EXTRA_PROGRAMS = {"sync": (("sync_functional", "sync_test.o"),)}

LINEBUF_C = """// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

/* line-buffered stdout even into a pipe: stdbuf -oL for a static binary */
__attribute__((constructor)) static void harness_stdout_line_buffered(void)
{
\tsetvbuf(stdout, NULL, _IOLBF, 0);
}
"""


def recipe_id() -> str:
    """What the build key must cover of this stage besides the tree itself."""
    return f"kselftests:{RECIPE}:{','.join(COLLECTIONS)}:{LINEBUF_C}"


def headers_install(srctree: Path, objdir: Path, env: dict, log_path: Path) -> Path:
    """`make headers_install` of the configured tree: the uapi headers at objdir/usr/include."""
    with open(log_path, "a") as log:
        log.write("\n=== headers_install ===\n")
        rc = run_make(["make", "-C", str(srctree), f"O={objdir}", f"ARCH={ARCH}", "headers_install"],
                      log, env)
    if rc != 0:
        raise BuildError(f"make headers_install failed (exit {rc})", log_path=log_path,
                         errors=first_errors(log_path.read_text(errors="replace")))
    return objdir / "usr" / "include"


def is_static_elf(path: Path) -> bool:
    """An ELF executable without a program interpreter (PT_INTERP), i.e. statically linked."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:        # 64-bit only: the guest is x86_64
        return False
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(e_phnum):
        p_type, = struct.unpack_from("<I", data, e_phoff + i * e_phentsize)
        if p_type == 3:    # PT_INTERP
            return False
    return True


def _executables(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF")


def build_collection(srctree: Path, coll: str, obj: Path, dest: Path, headers: Path, linebuf_o: Path,
                     env: dict, jobs: int, log_path: Path) -> list[Path]:
    """make install of one collection; its static programs under dest."""
    src = srctree / SELFTESTS_DIR / coll
    if not (src / "Makefile").is_file():
        raise BuildError(f"kselftest {coll}: {SELFTESTS_DIR}/{coll}/Makefile is not in this tree")
    obj.mkdir(parents=True, exist_ok=True)
    cmd = ["make", "-C", str(src), f"-j{jobs}", f"OUTPUT={obj}", f"INSTALL_PATH={dest}",
           f"ARCH={ARCH}", "CC=ccache gcc", f"KHDR_INCLUDES=-isystem {headers}",
           f"USERLDFLAGS=-static {linebuf_o}", "install"]
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        rc = run_make(cmd, log, env)
    if rc != 0:
        raise BuildError(f"kselftest {coll} failed to build (make exit {rc})", log_path=log_path,
                         errors=first_errors(log_path.read_text(errors="replace")))
    found = _executables(dest) if dest.is_dir() else []
    if not found:
        raise BuildError(f"kselftest {coll}: make install produced no program in {dest}", log_path=log_path)
    dynamic = [p.name for p in found if not is_static_elf(p)]
    if dynamic:
        raise BuildError(f"kselftest {coll}: not statically linked (the guest has no libc): "
                         f"{', '.join(dynamic)}", log_path=log_path)
    return found


def build_linebuf(obj_root: Path, env: dict) -> Path:
    """The object that makes stdout line-buffered, linked into every program."""
    linebuf_c = obj_root / "linebuf.c"
    linebuf_c.write_text(LINEBUF_C)
    linebuf_o = obj_root / "linebuf.o"
    with open(obj_root / "linebuf.log", "w") as log:
        if run_make(["gcc", "-O2", "-c", str(linebuf_c), "-o", str(linebuf_o)], log, env) != 0:
            raise BuildError("kselftests: the line-buffering helper failed to compile",
                             log_path=obj_root / "linebuf.log")
    return linebuf_o


def build_extra_program(srctree: Path, coll: str, name: str, skip_obj: str, extra_src: Path, obj: Path,
                        dest: Path, headers: Path, linebuf_o: Path, env: dict, log_path: Path) -> Path:
    """One of our programs, compiled like the collection's and linked with its objects."""
    src = extra_src / f"{name}.c"
    if not src.is_file():
        raise BuildError(f"kselftest {coll}: {src} is missing")
    main_o = obj / f"{name}.o"
    objs = sorted(str(o) for o in obj.glob("*.o") if o.name not in (skip_obj, main_o.name))
    cflags = ["-O2", "-g", "-std=gnu89", "-pthread", "-Wall", "-Wextra", "-isystem", str(headers),
              "-D_GNU_SOURCE=", "-I", str(srctree / SELFTESTS_DIR / coll)]
    with open(log_path, "a") as log:
        for cmd in (["ccache", "gcc", *cflags, "-c", str(src), "-o", str(main_o)],
                    ["gcc", "-static", "-pthread", "-o", str(dest / name), str(main_o), *objs, str(linebuf_o)]):
            log.write(" ".join(cmd) + "\n")
            rc = run_make(cmd, log, env)
            if rc != 0:
                raise BuildError(f"kselftest {coll}: {name} failed to build (exit {rc})", log_path=log_path,
                                 errors=first_errors(log_path.read_text(errors="replace")))
    if not is_static_elf(dest / name):
        raise BuildError(f"kselftest {coll}: {name} is not statically linked", log_path=log_path)
    return dest / name


def build_kselftests(srctree: Path, objdir: Path, bdir: Path, env: dict, jobs: int, extra_src: Path,
                     collections: tuple[str, ...] = COLLECTIONS) -> list[str]:
    """Build and install every collection; returns the programs as "<collection>/<program>".

    A collection that fails to build raises BuildError naming it and its first
    compiler errors; one that builds anything but static executables likewise.
    """
    out_root, obj_root = bdir / OUT, bdir / OBJ
    shutil.rmtree(out_root, ignore_errors=True)
    shutil.rmtree(obj_root, ignore_errors=True)
    obj_root.mkdir(parents=True)
    headers = headers_install(srctree, objdir, env, obj_root / "headers_install.log")
    linebuf_o = build_linebuf(obj_root, env)
    programs: list[str] = []
    for coll in collections:
        log_path = obj_root / (coll.replace("/", "_") + ".log")
        found = build_collection(srctree, coll, obj_root / coll, out_root / coll, headers, linebuf_o,
                                 env, jobs, log_path)
        for name, skip_obj in EXTRA_PROGRAMS.get(coll, ()):
            found.append(build_extra_program(srctree, coll, name, skip_obj, extra_src, obj_root / coll,
                                             out_root / coll, headers, linebuf_o, env, log_path))
        programs.extend(str(p.relative_to(out_root)) for p in found)
    return programs
