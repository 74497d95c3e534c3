"""KTAP / TAP 13 output as a tree of documents (Documentation/dev-tools/ktap.rst).

Lines are of four kinds: version (`KTAP version 1`, `TAP version 13`), plan
(`1..N`, `1..0 # SKIP why`), result (`ok|not ok N description # DIRECTIVE
diagnostic`) and diagnostic (`# ...`); anything else is an unknown line,
which KTAP allows anywhere (kernel messages share the console).

A nested document starts with a version line that is either indented (KTAP:
two or more spaces, KUnit uses four) or prefixed with `# ` (what kselftest's
runner.sh makes of a test program's own TAP output). It ends at the next
version, plan or result line of an enclosing document; the result line that
ends it is the parent test, and the nested results are its subtests.

This module only reads structure; what counts as a failure is the caller's
decision (harness.suites.kselftest.judge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION = re.compile(r"^(K?TAP) version (\d+)\s*$")
_NESTED_VERSION = re.compile(r"^(\s+|# )(K?TAP version \d+)\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
_RESULT = re.compile(r"^(not ok|ok)\b(?:\s+(\d+))?(.*)$")
_BAIL = re.compile(r"^Bail out!\s*(.*)$", re.IGNORECASE)
# the kernel's console lines ("[   12.345678] ..."), if the caller passes console lines
_KERNEL_LINE = re.compile(r"^\s*\[\s*\d+\.\d+\]")

DIRECTIVES = ("SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR")


@dataclass
class Result:
    """One result line, with the nested document that preceded it (its subtests)."""

    number: int
    ok: bool
    description: str
    directive: str          # one of DIRECTIVES, upper case, or ""
    diagnostic: str         # what follows the directive (or the `#` when there is none)
    line: int               # 1-based line number in the parsed text
    notes: list[str] = field(default_factory=list)   # diagnostic lines since the previous result
    children: "Document | None" = None


@dataclass
class Document:
    prefix: str                     # what every line of this document starts with
    line: int                       # where it starts (its version line, or its first line)
    version: str = ""
    plan: int | None = None
    plan_directive: str = ""        # e.g. "SKIP no udmabuf" of `1..0 # SKIP no udmabuf`
    results: list[Result] = field(default_factory=list)
    bailout: str | None = None
    # a nested document whose parent result line never came (the parent crashed or hung)
    unfinished: "Document | None" = None
    _notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.version or self.plan is not None or self.results or self.bailout is not None)

    def last_notes(self, n: int = 5) -> list[str]:
        """The latest diagnostic lines not yet attached to a result (why it stopped)."""
        return self._notes[-n:]


def _split_directive(rest: str) -> tuple[str, str, str]:
    """`description # DIRECTIVE diagnostic` -> (description, directive, diagnostic)."""
    desc, hash_, after = rest.partition("#")
    if not hash_:
        return rest.strip(), "", ""
    after = after.strip()
    word, _, diag = after.partition(" ")
    if word.upper() in DIRECTIVES:
        return desc.strip(), word.upper(), diag.strip()
    return desc.strip(), "", after


def _parse_result(m: re.Match, default_number: int, line: int) -> Result:
    desc, directive, diag = _split_directive(m.group(3))
    # TAP allows `ok - description`
    desc = desc[2:] if desc.startswith("- ") else desc
    number = int(m.group(2)) if m.group(2) else default_number
    return Result(number, m.group(1) == "ok", desc, directive, diag, line)


def parse(text: str | list[str]) -> list[Document]:
    """The top-level documents of a text (usually one; one per program run in sequence)."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    roots: list[Document] = []
    stack: list[Document] = []

    def close_to(depth: int) -> Document | None:
        """End the documents deeper than `depth`; returns the one directly below it."""
        while len(stack) > depth + 2:
            orphan = stack.pop()
            stack[-1].unfinished = orphan
        return stack.pop() if len(stack) > depth + 1 else None

    for i, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if _KERNEL_LINE.match(line):
            continue
        if not stack:
            stack.append(Document("", i))
            roots.append(stack[0])
        handled = False
        for depth in range(len(stack) - 1, -1, -1):
            doc = stack[depth]
            if not line.startswith(doc.prefix):
                continue
            rest = line[len(doc.prefix):]
            if _VERSION.match(rest):
                child = close_to(depth)
                if child is not None:
                    doc.unfinished = child
                if not doc.empty:
                    # a second document at this level: a new top-level run, or a
                    # sibling of a nested one whose parent result never came
                    new = Document(doc.prefix, i, version=rest.strip())
                    if depth == 0:
                        roots.append(new)
                    else:
                        stack[depth - 1].unfinished = doc
                    stack[depth] = new
                else:
                    doc.version, doc.line = rest.strip(), i
                handled = True
                break
            nested = _NESTED_VERSION.match(rest)
            if nested:
                child = close_to(depth)
                if child is not None:
                    doc.unfinished = child
                stack.append(Document(doc.prefix + nested.group(1), i, version=nested.group(2)))
                handled = True
                break
            m = _PLAN.match(rest)
            if m:
                child = close_to(depth)
                if child is not None:
                    doc.unfinished = child
                doc.plan, doc.plan_directive = int(m.group(1)), (m.group(2) or "").strip()
                handled = True
                break
            m = _RESULT.match(rest)
            if m:
                child = close_to(depth)
                res = _parse_result(m, len(doc.results) + 1, i)
                res.children = child
                res.notes, doc._notes = doc._notes, []
                doc.results.append(res)
                handled = True
                break
            m = _BAIL.match(rest)
            if m:
                close_to(depth)
                doc.bailout = m.group(1).strip()
                handled = True
                break
        if not handled:
            # a diagnostic or unknown line: it belongs to the deepest document it fits
            for doc in reversed(stack):
                if line.startswith(doc.prefix):
                    note = line[len(doc.prefix):].strip()
                    note = note[1:].strip() if note.startswith("#") else note
                    if note:
                        doc._notes.append(note)
                    break
    # documents still open at the end: their parent result never came
    if stack:
        while len(stack) > 1:
            orphan = stack.pop()
            stack[-1].unfinished = orphan
    return [d for d in roots if not d.empty]
