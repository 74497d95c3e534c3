"""Issue 13 for the detector: small modules with one job, the public API of
harness.detect kept, no hand-written demangler."""

from __future__ import annotations

import ast
from pathlib import Path

import harness.detect as detect

DETECT = Path(detect.__file__).parent


def test_public_api():
    for name in ("Report", "ScanError", "scan_lines", "scan_text", "scan_bytes", "scan_file", "scan_range",
                 "normalize_title", "scan_files", "FileScan"):
        assert hasattr(detect, name), name
        assert name in detect.__all__


def test_modules_are_small_or_say_why():
    for path in sorted(DETECT.glob("*.py")):
        lines = path.read_text().count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert lines <= 600 or "Why this module is long" in doc, f"{path.name}: {lines} lines"


def test_no_hand_written_demangler():
    for path in DETECT.glob("*.py"):
        text = path.read_text()
        assert "_RustV0" not in text and "class _Itanium" not in text, path.name
    assert "c++filt" in (DETECT / "demangle.py").read_text()
