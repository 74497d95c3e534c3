"""A small YAML schema checker that knows where every value came from.

kunit_config-style: declare the expected shape as data, then report the first
mismatch with file, key path and line, e.g.
``configs/harness.yaml:12: variants.rcu-ops.series: expected a list, got str``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from harness.core.errors import ConfigError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Spec:
    """Base class of schema nodes; `check` turns a YAML node into a value."""

    def check(self, node: yaml.Node, ctx: "Ctx", path: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__.lower()


@dataclass
class Ctx:
    file: str

    def fail(self, node: yaml.Node | None, path: str, msg: str):
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(msg, file=self.file, key=path or "(top level)", line=line)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "string", "int": "integer", "bool": "boolean",
            "null": "nothing"}.get(tag, tag)


def _construct(node: yaml.Node) -> Any:
    """The plain Python value of a node (YAML 1.1 safe types), without re-parsing text."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def _scalar(node: yaml.Node) -> Any:
    return _construct(node) if isinstance(node, yaml.ScalarNode) else None


class Str(Spec):
    def __init__(self, choices: tuple[str, ...] | None = None):
        self.choices = choices

    def check(self, node, ctx, path):
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool", ":map", ":seq")):
            ctx.fail(node, path, f"expected a string, got {_kind(node)}")
        value = node.value
        if self.choices and value not in self.choices:
            ctx.fail(node, path, f"{value!r} is not one of: {', '.join(self.choices)}")
        return value

    def describe(self):
        return "one of " + "|".join(self.choices) if self.choices else "string"


class Int(Spec):
    def __init__(self, minimum: int | None = None):
        self.minimum = minimum

    def check(self, node, ctx, path):
        value = _scalar(node)
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(node, path, f"expected an integer, got {_kind(node)} {getattr(node, 'value', '')!r}")
        if self.minimum is not None and value < self.minimum:
            ctx.fail(node, path, f"must be >= {self.minimum}, got {value}")
        return value


class Float(Spec):
    def __init__(self, minimum: float | None = None):
        self.minimum = minimum

    def check(self, node, ctx, path):
        value = _scalar(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            ctx.fail(node, path, f"expected a number, got {_kind(node)} {getattr(node, 'value', '')!r}")
        if self.minimum is not None and value < self.minimum:
            ctx.fail(node, path, f"must be >= {self.minimum}, got {value}")
        return float(value)


class Bool(Spec):
    def check(self, node, ctx, path):
        value = _scalar(node)
        if not isinstance(value, bool):
            ctx.fail(node, path, f"expected true or false, got {_kind(node)} {getattr(node, 'value', '')!r}")
        return value


class Any_(Spec):
    def check(self, node, ctx, path):
        return _construct(node)


class ListOf(Spec):
    def __init__(self, item: Spec, scalar_ok: bool = False):
        self.item, self.scalar_ok = item, scalar_ok

    def check(self, node, ctx, path):
        if self.scalar_ok and isinstance(node, yaml.ScalarNode):
            return [self.item.check(node, ctx, path)]
        if not isinstance(node, yaml.SequenceNode):
            ctx.fail(node, path, f"expected a list, got {_kind(node)}")
        return [self.item.check(n, ctx, f"{path}[{i}]") for i, n in enumerate(node.value)]


class MapOf(Spec):
    """A mapping with free-form keys (names) and values of one shape."""

    def __init__(self, value: Spec, key_pattern: str | None = None):
        self.value, self.key_pattern = value, key_pattern

    def check(self, node, ctx, path):
        if not isinstance(node, yaml.MappingNode):
            ctx.fail(node, path, f"expected a mapping, got {_kind(node)}")
        out = {}
        for knode, vnode in node.value:
            key = str(knode.value)
            sub = f"{path}.{key}" if path else key
            if self.key_pattern and not re.fullmatch(self.key_pattern, key):
                ctx.fail(knode, sub, f"name {key!r} must match {self.key_pattern}")
            if key in out:
                ctx.fail(knode, sub, "duplicate key")
            out[key] = self.value.check(vnode, ctx, sub)
        return out


@dataclass
class Field:
    spec: Spec
    required: bool = False
    default: Any = None


class Record(Spec):
    """A mapping with a fixed set of keys; unknown keys are errors."""

    def __init__(self, fields: dict[str, Field], build: Callable[..., Any] | None = None,
                 exactly_one_of: tuple[str, ...] = ()):
        self.fields, self.build, self.exactly_one_of = fields, build, exactly_one_of

    def check(self, node, ctx, path):
        if not isinstance(node, yaml.MappingNode):
            ctx.fail(node, path, f"expected a mapping, got {_kind(node)}")
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for knode, vnode in node.value:
            key = str(knode.value)
            sub = f"{path}.{key}" if path else key
            if key not in self.fields:
                known = ", ".join(sorted(self.fields))
                close = difflib.get_close_matches(key, self.fields, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                ctx.fail(knode, sub, f"unknown key {key!r} ({hint}known keys: {known})")
            if key in values:
                ctx.fail(knode, sub, "duplicate key")
            values[key] = self.fields[key].spec.check(vnode, ctx, sub)
            lines[key] = knode.start_mark.line + 1
        for key, field in self.fields.items():
            if key not in values:
                if field.required:
                    ctx.fail(node, f"{path}.{key}" if path else key, "required key is missing")
                values[key] = field.default() if callable(field.default) else field.default
        if self.exactly_one_of:
            given = [k for k in self.exactly_one_of if k in lines]
            if len(given) != 1:
                ctx.fail(node, path, f"needs exactly one of {', '.join(self.exactly_one_of)}"
                         + (f" (got {', '.join(given)})" if given else ""))
        values["_line"] = node.start_mark.line + 1
        if self.build:
            return self.build(**values)
        return values


def load(path: Path, spec: Spec) -> Any:
    """Parse and check one YAML file; every problem is a ConfigError."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        # libyaml's composer when PyYAML has it: the pure-Python one was most of
        # every command's start-up (1.9 s of 3.0 s loading the scenario files)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', exc)}", file=str(path),
                          line=mark.line + 1 if mark else None) from None
    if node is None:
        raise ConfigError("file is empty", file=str(path))
    return spec.check(node, Ctx(str(path)), "")
