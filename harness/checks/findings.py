"""From tool output to `Finding`s: enclosing functions, build errors, per-object selection."""

from __future__ import annotations

import os
import re
from typing import Callable

from harness.checks import diag
from harness.checks.funcs import FunctionIndex
from harness.model.checks import CheckName, Finding, Severity
from harness.build.kernel import first_errors

_LINKER = re.compile(r"(undefined reference|multiple definition|relocation|ld: |ld\.\w+: |modpost)")


class Functions:
    """(file, line) -> enclosing definition, from the file as it is at one commit."""

    def __init__(self, read: Callable[[str], str | None]):
        self.read = read
        self._idx: dict[str, FunctionIndex | None] = {}

    def __call__(self, file: str | None, line: int | None) -> str | None:
        if not file or not line or not file.endswith((".c", ".h")):
            return None
        if file not in self._idx:
            text = self.read(file)
            self._idx[file] = FunctionIndex(text) if text is not None else None
        idx = self._idx[file]
        return idx.at(line) if idx else None


def from_diagnostics(diags: list[diag.Diagnostic], check: CheckName, functions: Functions) -> list[Finding]:
    out = []
    for d in diags:
        out.append(Finding(check=check, file=d.file, line=d.line, column=d.column, message=d.message,
                           severity=Severity.ERROR if d.severity == "error" else Severity.WARNING,
                           kind=d.flag, function=functions(d.file, d.line) or d.function,
                           object=d.object))
    return out


def for_objects(diags: list[diag.Diagnostic], objects: list[str]) -> list[diag.Diagnostic]:
    """The diagnostics the compiles of these objects printed, one copy of each."""
    wanted = {os.path.normpath(o) for o in objects}
    return diag.dedupe([d for d in diags if d.object and os.path.normpath(d.object) in wanted])


def build_errors(log_text: str, paths: diag.PathMap, functions: Functions, limit: int = 12) -> list[Finding]:
    """The first errors of a failed build: compiler errors with file:line, then linker/make lines."""
    errs = [d for d in diag.parse(log_text, paths) if d.severity == "error"]
    out = from_diagnostics(diag.dedupe(errs)[:limit], CheckName.BUILD, functions)
    for line in first_errors(log_text, limit=limit * 2):
        if diag.parse(line, paths) or line.lstrip().startswith("|") or re.match(r"^\s*\d+\s+\|", line):
            continue     # a compiler error already taken above, or its source excerpt
        if line.startswith("make") and out:
            continue     # make's "*** Error" only matters when nothing else explains it
        out.append(Finding(check=CheckName.BUILD, file=None, line=None, message=_unpath(line, paths),
                           severity=Severity.ERROR, kind="link" if _LINKER.search(line) else "make"))
        if len(out) >= limit:
            break
    return out


def _unpath(line: str, paths: diag.PathMap) -> str:
    for prefix, repl in paths.prefixes:
        line = line.replace(prefix, repl)
    return line
