"""Module and taint attribution of one report: the modules linked in (and
which of them were unloading), the module unloaded last, the taint flags and
the ``[module]`` each stack frame belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["Attribution", "parse_modules"]

_MODULES_LINKED = re.compile(r"Modules linked in:(.*)")
_LAST_UNLOADED = re.compile(r"\[last unloaded: ([A-Za-z0-9_\-]+)(?:\([^)]*\))?\]")
_UNLOADED_TAINTED = re.compile(r"Unloaded tainted modules: (.*)")
_TAINT_SHORT = re.compile(r"\bTainted: ((?:[A-Z ](?! *\d+\.\d))+[A-Z])")
_TAINT_VERBOSE = re.compile(r"\[([A-Z])\]=[A-Z_]+")
_FRAME_MODULE = re.compile(r"([A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+ \[([A-Za-z0-9_\-]+)[\] ]")
_MOD_TOKEN = re.compile(r"([A-Za-z0-9_\-]+)(?:\(([^)]*)\))?")


@dataclass
class Attribution:
    linked: list[str] = field(default_factory=list)      # "Modules linked in:"
    unloading: list[str] = field(default_factory=list)   # linked, state "-" (being unloaded)
    last_unloaded: str | None = None
    tainted: str | None = None                           # "G W O", "" when "Not tainted"
    frame_mods: list[tuple[str, str]] = field(default_factory=list)  # (function, module)


def parse_modules(lines: Iterable[str]) -> Attribution:
    """Read the attribution lines of one report's text."""
    a = Attribution()
    seen_linked = False
    unloaded_tainted: list[str] = []
    verbose: list[str] = []
    for text in lines:
        if "Modules linked in:" in text and not seen_linked:
            seen_linked = True
            body = _MODULES_LINKED.search(text).group(1)
            m = _LAST_UNLOADED.search(body)
            if m:
                a.last_unloaded = m.group(1)
                body = body[: m.start()]
            for tok in _MOD_TOKEN.finditer(body):
                a.linked.append(tok.group(1))
                if tok.group(2) and "-" in tok.group(2):
                    a.unloading.append(tok.group(1))
        elif "[last unloaded:" in text and a.last_unloaded is None:
            m = _LAST_UNLOADED.search(text)
            a.last_unloaded = m.group(1) if m else None
        if "Unloaded tainted modules:" in text:
            for tok in _MOD_TOKEN.finditer(_UNLOADED_TAINTED.search(text).group(1)):
                if not tok.group(1).isdigit():
                    unloaded_tainted.append(tok.group(1))
        if "Tainted:" in text or "Not tainted" in text:
            vs = _TAINT_VERBOSE.findall(text)
            if vs:
                verbose.extend(vs)
            elif a.tainted is None:
                if "Not tainted" in text:
                    a.tainted = ""
                else:
                    m = _TAINT_SHORT.search(text)
                    if m:
                        a.tainted = " ".join(m.group(1).split())
        if "/0x" in text and "[" in text:
            for m in _FRAME_MODULE.finditer(text):
                a.frame_mods.append((m.group(1), m.group(2)))
    if a.tainted is None and verbose:
        a.tainted = " ".join(dict.fromkeys(verbose))
    if a.last_unloaded is None and unloaded_tainted:
        a.last_unloaded = unloaded_tainted[-1]
    return a
