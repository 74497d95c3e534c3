"""C++ (Itanium ``_Z``) and Rust (v0 ``_R``, legacy ``_ZN..17h<hash>E``)
frame names made readable with binutils' ``c++filt``.

One ``c++filt`` process per batch of names (a report's frames), never one per
frame; answers are cached.  Rust crate disambiguators (``kernel[9a6c..]``)
and legacy hashes (``::h0123456789abcdef``) are dropped, as rustc's own
demangler does in its short form, so a title does not change with a rebuild.
Without ``c++filt`` names stay mangled (titles still work, only less readable).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Iterable

__all__ = ["demangle_all", "is_mangled", "MANGLED"]

MANGLED = re.compile(r"\b_(?:R|ZN?)[A-Za-z0-9_]+")
_DISAMBIGUATOR = re.compile(r"\[[0-9a-f]+\]")
_LEGACY_HASH = re.compile(r"::h[0-9a-f]{16}$")
_CACHE: dict[str, str] = {}
_CACHE_MAX = 4096
TOOL = "c++filt"


def is_mangled(name: str) -> bool:
    return name[:2] in ("_R", "_Z")


def _tidy(name: str) -> str:
    return _LEGACY_HASH.sub("", _DISAMBIGUATOR.sub("", name))


def _run_cxxfilt(names: list[str]) -> list[str] | None:
    tool = shutil.which(TOOL)
    if tool is None:
        return None
    try:
        proc = subprocess.run([tool, "--no-params"], input="\n".join(names) + "\n",
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.split("\n")
    if proc.returncode != 0 or len(out) < len(names):
        return None
    return out[: len(names)]


def demangle_all(names: Iterable[str]) -> dict[str, str]:
    """Map each mangled name of *names* to its readable form (itself when
    c++filt is missing or does not know it)."""
    want = [n for n in dict.fromkeys(names) if is_mangled(n)]
    todo = [n for n in want if n not in _CACHE]
    if todo:
        out = _run_cxxfilt(todo)
        if out is None:
            return {n: _CACHE.get(n, n) for n in want}
        if len(_CACHE) + len(todo) > _CACHE_MAX:
            _CACHE.clear()
        for n, d in zip(todo, out):
            _CACHE[n] = _tidy(d.strip()) if d.strip() and d.strip() != n else n
    return {n: _CACHE.get(n, n) for n in want}
