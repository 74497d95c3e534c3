"""Old-vs-new: which findings at prefix k were not there at prefix k-1.

Two findings are the same when they have the same check, file, enclosing
function and message, the message normalised so that a moved line or a
changed number does not make it new: whitespace collapsed, and numbers
outside quotes replaced (gcc's "frame size of 1104 bytes" and sparse's
"originally declared at ...:123" vary with unrelated edits; what is quoted,
an identifier or a type, does not). Line numbers are not compared at all.

Counts matter: a third copy of a warning that was there twice is new. When
only some copies of a key are new, the new ones are those on lines the patch
added (then the later ones), so the `>>` lands where the patch wrote.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from harness.model.checks import Finding

_QUOTED = re.compile(r"('[^']*'|‘[^’]*’|\"[^\"]*\")")
_NUMBER = re.compile(r"\b\d+\b")


def normalise(message: str) -> str:
    parts = _QUOTED.split(" ".join(message.split()))
    return "".join(p if i % 2 else _NUMBER.sub("N", p) for i, p in enumerate(parts))


def key(f: Finding) -> tuple:
    return (f.check, f.file, f.function, f.severity, normalise(f.message))


def mark_new(current: list[Finding], previous: list[Finding],
             added_lines: dict[str, set[int]] | None = None) -> tuple[list[Finding], list[Finding]]:
    """(current with `new` set, findings of `previous` that are gone)."""
    added_lines = added_lines or {}
    budget = Counter(key(f) for f in previous)

    def on_added(f: Finding) -> bool:
        return bool(f.file and f.line and f.line in added_lines.get(f.file, ()))

    # match old copies first to findings on untouched lines, earliest first
    order = sorted(range(len(current)), key=lambda i: (on_added(current[i]), current[i].line or 0, i))
    new_flags = [True] * len(current)
    for i in order:
        k = key(current[i])
        if budget[k] > 0:
            budget[k] -= 1
            new_flags[i] = False
    marked = [replace(f, new=n) for f, n in zip(current, new_flags)]
    gone_budget = budget
    fixed = []
    for f in previous:
        k = key(f)
        if gone_budget[k] > 0:
            gone_budget[k] -= 1
            fixed.append(replace(f, new=False))
    return marked, fixed


def added_lines(diff_text: str) -> dict[str, set[int]]:
    """File -> line numbers (in the new version) that a unified diff adds."""
    out: dict[str, set[int]] = {}
    cur: set[int] | None = None
    header = False
    lno = 0
    for line in diff_text.splitlines():
        if line.startswith("diff --git "):
            header, cur = True, None
            continue
        if header:
            if line.startswith("+++ "):
                path = line[4:].strip()
                cur = None if path == "/dev/null" else out.setdefault(path[2:] if path.startswith("b/")
                                                                      else path, set())
                continue
            elif line.startswith("@@"):
                header = False
            else:
                continue
        if line.startswith("@@"):
            m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
            lno = int(m.group(1)) if m else 0
            continue
        if cur is None:
            continue
        if line.startswith("+"):
            cur.add(lno)
            lno += 1
        elif line.startswith(" "):
            lno += 1
    return out
