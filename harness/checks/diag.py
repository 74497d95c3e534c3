"""Diagnostics out of a kbuild log: gcc's warnings/errors and sparse's, by object.

The logs come from `make -O` (output grouped per target), so every diagnostic
follows the quiet-command line of the object that produced it (`CC`, `CC [M]`,
`CHECK`). sparse runs with `-fdiagnostic-prefix` (as the kernel test robot
runs it), so its lines read `file:line:col: sparse: message` and cannot be
mistaken for gcc's. What is kept per diagnostic: file (relative to the tree),
line, column, severity, message with its continuation lines (sparse's
"expected ... / got ..."), gcc's [-Wflag], gcc's "In function" context, and
the object being compiled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# "  CC      drivers/dma-buf/dma-fence.o", "  CC [M]  drivers/...", "  CHECK   /src/drivers/x.c"
_QUIET = re.compile(r"^  (CC|CC \[M\]|CHECK|AS|AS \[M\])\s+(\S+)\s*$")
# file:line[:col]: [sparse: ]severity: message
_DIAG = re.compile(r"^(?P<file>[^:\s][^:]*?):(?P<line>\d+):(?:(?P<col>\d+):)?\s+"
                   r"(?P<sparse>sparse: )?(?:(?P<sev>warning|error|fatal error|note):\s+)?(?P<msg>.*)$")
_IN_FUNC = re.compile(r"^(?P<file>[^:\s][^:]*?): In (?:member )?function [‘'](?P<func>[^’']+)[’']:$")
_TOP_LEVEL = re.compile(r"^(?P<file>[^:\s][^:]*?): At top level:$")
_FLAG = re.compile(r"\s+\[(-W[^\]]+|enabled by default)\]$")
# gcc's source excerpt: "  123 |   code" and "      |   ^~~~"
_EXCERPT = re.compile(r"^\s*\d*\s+\|")


@dataclass(frozen=True)
class Diagnostic:
    tool: str                 # "gcc" or "sparse"
    file: str                 # relative to the source tree when it is inside it
    line: int
    column: int | None
    severity: str             # "warning", "error"
    message: str              # first line + "\n" + continuation lines
    flag: str = ""            # gcc's -Wsomething
    function: str | None = None   # gcc's "In function" context (sparse has none)
    object: str | None = None     # the object (relative to the objdir) being compiled


class PathMap:
    """Turns the absolute paths gcc and sparse print into paths of the tree.

    `prefixes` maps an absolute folder to what it stands for: the source tree
    to "", the objdir to "" (generated headers), a copy of the guest modules to
    "guest-modules/kmod/".
    """

    def __init__(self, prefixes: dict[str, str]):
        self.prefixes = sorted(((p.rstrip("/") + "/", r) for p, r in prefixes.items()),
                               key=lambda x: -len(x[0]))

    def __call__(self, path: str) -> str:
        for p, r in self.prefixes:
            if path.startswith(p):
                path = r + path[len(p):]
                break
        while path.startswith("./"):
            path = path[2:]
        # "drivers/gpu/drm/amd/amdgpu/../amdkfd/x.c" -> "drivers/gpu/drm/amd/amdkfd/x.c"
        parts: list[str] = []
        for seg in path.split("/"):
            if seg == ".." and parts and parts[-1] != "..":
                parts.pop()
            elif seg != ".":
                parts.append(seg)
        return "/".join(parts)


def _ascii_quotes(text: str) -> str:
    # kbuild unexports LC_ALL, so gcc quotes with ‘’ under a UTF-8 LANG and
    # with '' otherwise: one spelling, whatever the caller's locale
    return text.replace("\u2018", "'").replace("\u2019", "'")


def parse(text: str, paths: PathMap, tool: str | None = None) -> list[Diagnostic]:
    """Every warning/error of a kbuild log; `tool` keeps only "gcc" or "sparse" ones.

    Notes (gcc's "note: ...", sparse's context lines without a severity that
    follow their warning at the same position) become continuation lines of
    the diagnostic they belong to only for sparse; gcc's notes point elsewhere
    ("declared here") and are dropped, as are its source excerpts.
    """
    out: list[Diagnostic] = []
    obj: str | None = None
    func: dict[str, str | None] = {}     # file -> gcc's current "In function"
    last: Diagnostic | None = None
    for raw in _ascii_quotes(text).splitlines():
        line = raw.rstrip()
        m = _QUIET.match(line)
        if m:
            target = m.group(2)
            if m.group(1) == "CHECK":
                target = re.sub(r"\.c$", ".o", paths(target))
            obj = paths(target)
            func.clear()
            last = None
            continue
        if _EXCERPT.match(line):
            continue
        m = _IN_FUNC.match(line)
        if m:
            func[paths(m.group("file"))] = m.group("func")
            continue
        m = _TOP_LEVEL.match(line)
        if m:
            func[paths(m.group("file"))] = None
            continue
        m = _DIAG.match(line)
        if not m:
            last = None
            continue
        is_sparse = bool(m.group("sparse"))
        file, lno = paths(m.group("file")), int(m.group("line"))
        col = int(m.group("col")) if m.group("col") else None
        sev, msg = m.group("sev"), m.group("msg")
        if sev is None or sev == "note":
            # sparse's continuation: its position again, then indented text
            # ("   expected struct x [noderef] __rcu *"); gcc's notes are dropped
            if (is_sparse and sev is None and msg[:1].isspace() and last is not None
                    and last.tool == "sparse" and (last.file, last.line) == (file, lno)):
                last = replace(last, message=last.message + "\n" + msg.strip())
                out[-1] = last
            continue
        if sev == "fatal error":
            sev = "error"
        flag = ""
        fm = _FLAG.search(msg)
        if fm:
            flag = fm.group(1)
            msg = msg[:fm.start()]
        d = Diagnostic(tool="sparse" if is_sparse else "gcc", file=file, line=lno, column=col,
                       severity=sev, message=msg.strip(), flag=flag,
                       function=None if is_sparse else func.get(file), object=obj)
        out.append(d)
        last = d
    if tool:
        out = [d for d in out if d.tool == tool]
    return out


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """One copy of a diagnostic reported by several objects (a warning in a header)."""
    seen = set()
    out = []
    for d in diags:
        k = (d.tool, d.file, d.line, d.column, d.severity, d.message, d.flag)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out
