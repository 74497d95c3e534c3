"""The `-k` expression language: pytest's, over cell names.

    -k 'stash and not vgem'      -k 'inline-lock and (names or status)'

Grammar (lowest precedence first)::

    expr := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | "(" expr ")" | NAME

A NAME is any run of characters other than blanks and parentheses. It
matches a cell when it is a substring of the cell's id
(`variant.profile.scenario`), when it matches the id as a glob (`*`, `?`,
`[...]`, also anywhere in the id), or when it equals (or globs) one of the
scenario's tags; case does not matter. Several `-k` options must all hold.

A malformed expression is an InputError naming it and the place.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Callable

from harness.core.errors import InputError

_TOKEN = re.compile(r"\s*(?:(\()|(\))|([^\s()]+))")
_KEYWORDS = ("and", "or", "not")

# a compiled expression: (cell id, its scenario's tags) -> selected?
Matcher = Callable[[str, tuple[str, ...]], bool]


@dataclass(frozen=True)
class _Tok:
    kind: str      # "(", ")", "and", "or", "not", "name", "end"
    text: str
    col: int       # 1-based column in the expression, for the error


def _tokens(expr: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:          # only blanks left
            break
        col = m.start(m.lastindex) + 1
        text = m.group(m.lastindex)
        if m.group(1) or m.group(2):
            out.append(_Tok(text, text, col))
        else:
            out.append(_Tok(text if text in _KEYWORDS else "name", text, col))
        pos = m.end()
    out.append(_Tok("end", "", len(expr) + 1))
    return out


def name_matches(name: str, cell_id: str, tags: tuple[str, ...]) -> bool:
    """One NAME of the language against one cell."""
    n, cid = name.lower(), cell_id.lower()
    return (n in cid or fnmatch.fnmatchcase(cid, n) or fnmatch.fnmatchcase(cid, f"*{n}*")
            or any(fnmatch.fnmatchcase(t.lower(), n) for t in tags))


class _Parser:
    def __init__(self, expr: str):
        self.expr, self.toks, self.i = expr, _tokens(expr), 0

    def fail(self, what: str, tok: _Tok) -> InputError:
        where = f"at column {tok.col}" + (f" ({tok.text!r})" if tok.text else " (the end)")
        return InputError(f"-k {self.expr!r}: {what} {where}; the language is pytest's: NAME, "
                          "not X, X and Y, X or Y, (X)")

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Matcher:
        if self.peek().kind == "end":
            raise self.fail("empty expression", self.peek())
        m = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail("expected 'and', 'or' or the end", self.peek())
        return m

    def or_expr(self) -> Matcher:
        parts = [self.and_expr()]
        while self.peek().kind == "or":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda cid, tags: any(p(cid, tags) for p in parts))

    def and_expr(self) -> Matcher:
        parts = [self.not_expr()]
        while self.peek().kind == "and":
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda cid, tags: all(p(cid, tags) for p in parts))

    def not_expr(self) -> Matcher:
        tok = self.take()
        if tok.kind == "not":
            inner = self.not_expr()
            return lambda cid, tags: not inner(cid, tags)
        if tok.kind == "(":
            inner = self.or_expr()
            if self.peek().kind != ")":
                raise self.fail("expected ')'", self.peek())
            self.take()
            return inner
        if tok.kind == "name":
            return lambda cid, tags: name_matches(tok.text, cid, tags)
        raise self.fail("expected a name, 'not' or '('", tok)


def compile_keywords(exprs: list[str] | None) -> Matcher:
    """Every -k expression, ANDed; no expression selects everything."""
    parts = [_Parser(e).parse() for e in exprs or []]
    return lambda cid, tags: all(p(cid, tags) for p in parts)
