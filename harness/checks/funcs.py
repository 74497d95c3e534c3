"""Which top-level definition of a C file a line belongs to.

Findings are matched old-vs-new by file + message + enclosing function, not
by line (lines shift when a patch adds code above). sparse does not say which
function it is in, and gcc only does for some warnings, so the enclosing
definition comes from the source itself: a small scanner that blanks out
comments, string/char literals and preprocessor lines, tracks brace depth,
and names every top-level `{ ... }` by its head:

* a function definition (the head has a top-level `(` and no `=`): the
  identifier before the first `(` (`static int __init foo(void)` -> `foo`);
* an initialiser (`static const struct x_ops foo = {`): the variable, `foo`;
* a type (`struct foo {`, `enum bar {`): `struct foo`, `enum bar`.

The head's own lines belong to the definition (gcc's "no previous prototype
for 'foo'" points at the line naming it). Heuristic by nature (unbalanced
braces across #ifdef branches), good enough for kernel style, and the same
on both sides of a comparison.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_IDENT = re.compile(r"[A-Za-z_]\w*")
_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "case"}


@dataclass(frozen=True)
class Definition:
    name: str
    start: int   # first line of the head (1-based)
    end: int     # line of the closing brace


def _blank(text: str) -> str:
    """Comments, literals and preprocessor lines replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":
            # a preprocessor line, with its backslash continuations
            while i < n:
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                if text[i] == "\n":
                    break
                # a comment that starts on a directive line may run past it
                if text.startswith("/*", i):
                    j = text.find("*/", i + 2)
                    j = n if j < 0 else j + 2
                    out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
                    i = j
                    continue
                out.append(" ")
                i += 1
            continue
        at_line_start = False
        if c == "\n":
            out.append(c)
            at_line_start = True
            i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else " ")
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _name_of(head: str) -> str | None:
    head = " ".join(head.split())
    if not head:
        return None
    depth = 0
    eq = paren = None
    for i, c in enumerate(head):
        if c in "([":
            if c == "(" and depth == 0 and paren is None:
                paren = i
            depth += 1
        elif c in ")]":
            depth = max(depth - 1, 0)
        elif c == "=" and depth == 0 and eq is None and head[i + 1:i + 2] != "=":
            eq = i
    if eq is not None and (paren is None or eq < paren):
        ids = [m.group(0) for m in _IDENT.finditer(re.sub(r"\[[^\]]*\]", "", head[:eq]))]
        return ids[-1] if ids else None
    if paren is not None:
        return _function_name(head)
    m = re.search(r"\b(struct|union|enum)\s+([A-Za-z_]\w*)\s*$", head)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    ids = [m.group(0) for m in _IDENT.finditer(head)]
    return ids[-1] if ids else None


def _function_name(head: str) -> str | None:
    """The name of a function from its head: the identifier before a top-level `(`.

    Annotations have parens too (`__printf(1, 2)` before the name,
    `__acquires(x)` after the parameters) and a macro invocation without `;`
    may precede the head: prefer a candidate that is neither `__annotation`
    nor an ALL_CAPS macro, else the first one (`SYSCALL_DEFINE3(...)`).
    """
    cands = []
    depth = 0
    for i, c in enumerate(head):
        if c == "(":
            if depth == 0:
                ids = [m.group(0) for m in _IDENT.finditer(head[:i])]
                if ids and head[:i].rstrip().endswith(ids[-1]) and ids[-1] not in _KEYWORDS:
                    cands.append(ids[-1])
            depth += 1
        elif c == ")":
            depth = max(depth - 1, 0)
    plain = [c for c in cands if not c.startswith("__") and not c.isupper()]
    return (plain or cands or [None])[0]


def definitions(text: str) -> list[Definition]:
    """Top-level braced definitions of a C file, in order."""
    src = _blank(text)
    defs: list[Definition] = []
    depth = 0
    line = 1
    head_start = None     # offset where the current top-level head begins
    head_line = 1
    open_at = None
    head_text = ""
    for i, c in enumerate(src):
        if c == "\n":
            line += 1
            continue
        if depth == 0:
            if c == "{":
                head_text = src[head_start:i] if head_start is not None else ""
                open_at = head_line if head_start is not None else line
                depth = 1
            elif c == ";" or c == "}":
                head_start = None
            elif not c.isspace() and head_start is None:
                head_start, head_line = i, line
        else:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    name = _name_of(head_text)
                    if name:
                        defs.append(Definition(name, open_at, line))
                    # what follows `}` up to `;` (a declarator list) is part of it
                    head_start = None
    return defs


class FunctionIndex:
    """Line -> enclosing definition name for one file's text."""

    def __init__(self, text: str):
        self.defs = definitions(text)
        self._starts = [d.start for d in self.defs]

    def at(self, line: int) -> str | None:
        i = bisect.bisect_right(self._starts, line) - 1
        if i >= 0 and self.defs[i].start <= line <= self.defs[i].end:
            return self.defs[i].name
        return None
