"""Which objects to compile for the files a patch touches, and what cannot be checked.

The answer comes from the full build of this config (its `.o.cmd` files: the
source of every object and every file it included), so "built in this
config" means what kbuild actually built, not a guess from Makefiles:

* a touched `.c` file with an object: that object;
* a `.c` file compiled only through another file that #includes it (i915/xe
  selftests): those includers;
* a touched header: the objects that include it, chosen as described in
  `choose_includers()` (a bounded set: the cost is two compiles per object
  per patch);
* anything else touched in C (a `.c` file nothing built uses, a header no
  built object includes) is *unchecked*, with the reason: "not built in this
  config (CONFIG_X is not set)" where the Makefiles say which option would
  build it.

Files that are not C (Makefile, Kconfig, documentation, assembler) are left
to the build check and listed as such.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.model.checks import Unchecked

DEFAULT_HEADER_INCLUDERS = 3


# what a .o.cmd file says, read as bytes with C-level regexes: the objdir of a
# small config holds ~70 MB of them and the index is refreshed at every prefix
_SAVEDCMD = re.compile(rb"^(?:saved)?cmd_(\S+\.o) :=", re.M)
_SOURCE = re.compile(rb"^source_\S+ := (\S+)", re.M)
_DEP = re.compile(rb"^  ([^\s$\\][^\s\\]*)", re.M)


@dataclass
class BuildIndex:
    """From an objdir's `.o.cmd` files: object -> source, and file -> objects including it.

    `refresh()` re-reads only the .cmd files that changed since the last
    call (a full read takes seconds, a build at one prefix rewrites dozens).
    """
    source_of: dict[str, str] = field(default_factory=dict)      # obj -> source file (tree-relative)
    objects_of: dict[str, list[str]] = field(default_factory=dict)   # source -> objs compiled from it
    includers: dict[str, set[str]] = field(default_factory=dict)     # file -> objs that read it
    objdir: Path | None = None
    srctree: Path | None = None
    _seen: dict[str, tuple[int, str, str, list[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def scan(cls, objdir: Path, srctree: Path) -> "BuildIndex":
        return cls(objdir=Path(objdir), srctree=Path(srctree)).refresh()

    def refresh(self) -> "BuildIndex":
        objdir = self.objdir
        prefix = (str(self.srctree) + "/").encode()
        present = set()
        names: dict[bytes, str] = {}
        for dirpath, dirnames, filenames in os.walk(objdir):
            # generated trees with no kernel objects of interest
            if dirpath == str(objdir):
                dirnames[:] = [d for d in dirnames if d not in ("usr", "tools")]
            for fn in filenames:
                if not (fn.startswith(".") and fn.endswith(".o.cmd")):
                    continue
                path = os.path.join(dirpath, fn)
                present.add(path)
                try:
                    mtime = os.stat(path).st_mtime_ns
                    old = self._seen.get(path)
                    if old and old[0] == mtime:
                        continue
                    with open(path, "rb") as f:
                        text = f.read()
                except OSError:
                    continue
                if old:
                    self._drop(old)
                entry = self._parse(path, mtime, text, prefix, names)
                if entry:
                    self._seen[path] = entry
                    self._insert(entry)
                else:
                    self._seen.pop(path, None)
        for path in [p for p in self._seen if p not in present]:
            self._drop(self._seen.pop(path))
        return self

    def _parse(self, path: str, mtime: int, text: bytes, prefix: bytes, names: dict):
        src = _SOURCE.search(text)
        if not src:
            return None          # a link step (composite object), not a compile
        saved = _SAVEDCMD.search(text)
        # the target as make knows it ("amdgpu/../amdkfd/x.o"), which the location
        # of the .cmd file (normalised by the file system) is not
        obj = saved.group(1).decode() if saved else os.path.relpath(
            os.path.join(os.path.dirname(path), os.path.basename(path)[1:-4]), self.objdir)
        deps = []
        for d in _DEP.findall(text):
            name = names.get(d)
            if name is None:
                name = names[d] = _rel(d.decode(errors="replace"), prefix.decode())
            deps.append(name)
        return (mtime, obj, _rel(src.group(1).decode(errors="replace"), prefix.decode()), deps)

    def _insert(self, entry) -> None:
        _, obj, src, deps = entry
        self.source_of[obj] = src
        self.objects_of.setdefault(src, []).append(obj)
        for d in deps:
            self.includers.setdefault(d, set()).add(obj)

    def _drop(self, entry) -> None:
        _, obj, src, deps = entry
        self.source_of.pop(obj, None)
        objs = self.objects_of.get(src, [])
        if obj in objs:
            objs.remove(obj)
        if not objs:
            self.objects_of.pop(src, None)
        for d in deps:
            self.includers.get(d, set()).discard(obj)


def _rel(path: str, prefix: str) -> str:
    if path.startswith(prefix):
        path = path[len(prefix):]
    return os.path.normpath(path)


@dataclass
class Plan:
    """What to compile for one patch."""
    objects: list[str] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_c: list[str] = field(default_factory=list)      # touched files that are not C


def choose_includers(header: str, includers: set[str], index: BuildIndex, series_files: set[str],
                     limit: int) -> tuple[list[str], str]:
    """The includers of a touched header to compile, and a note saying which and why.

    All includers whose source the series itself touches (they are the code
    the series is about), plus up to `limit` others, closest first: same
    folder as the header, then a source named like it (dma-fence.h ->
    dma-fence*.c), then the rest by path. Every includer of a widely used
    header would cost minutes per patch for little: a new warning inside a
    header shows in any one includer.
    """
    def source(o):
        return index.source_of.get(o, "")

    ours = sorted(o for o in includers if source(o) in series_files)
    rest = [o for o in includers if o not in ours]
    hdir = os.path.dirname(header)
    stem = os.path.splitext(os.path.basename(header))[0]
    rest.sort(key=lambda o: (os.path.dirname(source(o)) != hdir,
                             not os.path.basename(source(o)).startswith(stem), source(o)))
    chosen = ours + rest[:limit]
    note = (f"{header}: included by {len(includers)} object(s) of this config; compiled "
            f"{len(chosen)}: {len(ours)} the series touches"
            + (f" + {min(limit, len(rest))} more ({', '.join(rest[:limit])})" if rest[:limit] else ""))
    return chosen, note


def plan(touched: list[str], index: BuildIndex, series_files: set[str], *,
         exists: Callable[[str], bool], not_built_reason: Callable[[str], str],
         header_includers: int = DEFAULT_HEADER_INCLUDERS) -> Plan:
    """Objects for the files one patch touches (deleted files are skipped by the caller)."""
    p = Plan()
    chosen: list[str] = []
    for f in touched:
        if f.endswith(".c"):
            objs = index.objects_of.get(f)
            if objs:
                chosen += objs
                continue
            inc = sorted(index.includers.get(f, ()))
            if inc:
                chosen += inc[:max(header_includers, 1)]
                p.notes.append(f"{f}: not compiled on its own; compiled through "
                               f"{', '.join(inc[:max(header_includers, 1)])} which include it")
                continue
            p.unchecked.append(Unchecked(f, not_built_reason(f)))
        elif f.endswith(".h"):
            inc = index.includers.get(f, set())
            if not inc:
                p.unchecked.append(Unchecked(f, not_built_reason(f)))
                continue
            objs, note = choose_includers(f, inc, index, series_files, header_includers)
            chosen += objs
            p.notes.append(note)
        else:
            p.not_c.append(f)
    p.objects = [o for o in dict.fromkeys(chosen) if exists(index.source_of.get(o, o))]
    return p


# -- why a file is not built -------------------------------------------------

_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_]+)-(\$\((CONFIG_[A-Za-z0-9_]+)\)|y|m|objs)\s*[:+]?=\s*(.*)$")


def _logical_lines(text: str) -> list[str]:
    return text.replace("\\\n", " ").splitlines()


def not_built_reason(path: str, read: Callable[[str], str | None], config: dict[str, str]) -> str:
    """Why nothing of this config compiles `path`, in words."""
    opt = unset_option(path, read, config)
    what = "no object of this config includes it" if path.endswith(".h") else "not built in this config"
    if opt:
        return f"{what} ({opt} is not set)"
    return what if path.endswith(".h") else f"{what} (no object of the build is compiled from it)"


def unset_option(path: str, read: Callable[[str], str | None], config: dict[str, str],
                 depth: int = 8) -> str | None:
    """The CONFIG_ option whose absence keeps kbuild from building `path` (best effort).

    Walks up from the file: the Makefile line that lists `file.o` (for a
    part of a composite object or of a `$(var-y)` list, the line that lists
    that), then the parent folder's line that descends into this folder, and
    names the first CONFIG_ option on that chain that is not set. A folder
    without a Makefile (i915's gt/) is listed by its parent's Makefile as
    `gt/file.o`. For a header, the walk starts at its folder.
    """
    def unset(opt: str) -> bool:
        return config.get(opt, "n") not in ("y", "m")

    folder = os.path.dirname(path)
    if path.endswith(".h"):
        target = os.path.basename(folder) + "/"
        folder = os.path.dirname(folder)
    else:
        target = os.path.splitext(os.path.basename(path))[0] + ".o"
    for _ in range(depth):
        text = None
        for name in ("Kbuild", "Makefile"):
            text = read(f"{folder}/{name}" if folder else name)
            if text is not None:
                break
        found = _find_listing(_logical_lines(text), target, unset) if text is not None else False
        if isinstance(found, str):
            return found
        if not folder:
            break
        # not listed here (or no Makefile): the parent lists this folder, or the
        # file by its path below it
        target = os.path.basename(folder) + "/" + (target if text is None else "")
        folder = os.path.dirname(folder)
    return None


def _find_listing(lines: list[str], target: str, unset, seen=None) -> str | bool:
    """The unset CONFIG_ option guarding `target` in these Makefile lines; True when listed but
    every guard is set (look further up), False when not listed at all."""
    seen = seen or set()
    if target in seen:
        return False
    seen.add(target)
    listed = False
    for line in lines:
        m = _ASSIGN.match(line)
        if not m or target not in m.group(4).split():
            continue
        listed = True
        var, opt = m.group(1), m.group(3)
        if opt and unset(opt):
            return opt
        if var not in ("obj", "lib", "subdir", "core", "libs", "drivers"):
            # part of a composite object `var.o`, or of a list used as `$(var-y)`
            for up_target in (f"{var}.o", f"$({var}-y)", f"$({var}-objs)"):
                up = _find_listing(lines, up_target, unset, seen)
                if isinstance(up, str):
                    return up
    return listed
