"""Issue 17, point 2: logs with NUL runs are scanned (serial consoles emit
runs of NUL bytes after a reset and around a panic); only what is really
binary is refused; a multi-file scan reports a bad file as an error entry
and scans the others."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import pytest

from harness.cli.scan import register
from harness.detect import ScanError, scan_bytes, scan_file, scan_files, scan_lines
from harness.detect.files import looks_binary

REAL = Path(__file__).parent / "fixtures" / "scan" / "real"


def with_nul_runs(data: bytes, share: float = 0.10) -> bytes:
    """Put NUL runs at line starts (a reset) and inside the report (a panic
    flushing the UART) until they are about *share* of the bytes."""
    lines = data.split(b"\n")
    want = int(len(data) * share / (1 - share))
    step = max(1, len(lines) // 12)
    per = max(1, want // (len(lines) // step + 1))
    out = []
    for i, ln in enumerate(lines):
        if i % step == 0:
            ln = b"\x00" * per + ln
        elif i % step == step // 2 and len(ln) > 20:
            ln = ln[:20] + b"\x00" * 7 + ln[20:]
        out.append(ln)
    return b"\n".join(out)


def test_log_with_ten_percent_nul_bytes_is_scanned(tmp_path):
    clean = (REAL / "kasan_status_extern_heap.log").read_bytes()
    data = with_nul_runs(clean)
    assert data.count(b"\x00") / len(data) > 0.09
    p = tmp_path / "console.log"
    p.write_bytes(data)
    got = [(r.title, r.start_line, r.end_line, r.last_unloaded) for r in scan_file(p)]
    want = [(r.title, r.start_line, r.end_line, r.last_unloaded) for r in scan_bytes(clean)]
    assert got == want and len(got) == 2
    # the same through scan_lines (the runner's path) and gzip
    assert [r.title for r in scan_lines(data.decode("latin-1").splitlines())] == [w[0] for w in want]
    gz = tmp_path / "console.log.gz"
    gz.write_bytes(gzip.compress(data))
    assert [r.title for r in scan_file(gz)] == [w[0] for w in want]


def test_log_starting_with_a_long_nul_run(tmp_path):
    p = tmp_path / "console.log"
    p.write_bytes(b"\x00" * 100_000 + (REAL / "vgem_close_after_unload.log").read_bytes())
    assert [r.title for r in scan_file(p)] == ["BUG: unable to handle page fault in dma_fence_release"]


def test_only_nuls_is_an_empty_log(tmp_path):
    p = tmp_path / "console.log"
    p.write_bytes(b"\x00" * 70_000)
    assert scan_file(p) == []


@pytest.mark.parametrize("data,binary", [
    (b"\x00\x01\x02" * 5000, True),                     # control bytes
    (bytes(range(256)) * 200, True),                     # random-looking data
    (b"\x00" * 4096 + b"[    1.0] hello\n" * 100, False),  # NUL run then text
    ("[    1.0] Grüße – UTF-8 \x1b[31mcolour\x1b[0m\n".encode() * 100, False),  # UTF-8, ANSI colours
    ("[    1.0] latin-1 caf\xe9\n".encode("latin-1") * 100, False),
])
def test_binary_detection(data, binary):
    assert looks_binary(data[:65536]) is binary


def test_binary_and_elf_are_refused(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01\x02" * 5000)
    with pytest.raises(ScanError, match="binary"):
        scan_file(p)
    elf = tmp_path / "vmlinux"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    with pytest.raises(ScanError, match="ELF"):
        scan_file(elf)


def run_cli(*args: str) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="cmd"))
    ns = parser.parse_args(["scan", *args])
    return ns.func(ns)


@pytest.fixture
def files(tmp_path):
    crash = tmp_path / "crash.log"
    crash.write_bytes(with_nul_runs((REAL / "vgem_close_after_unload.log").read_bytes()))
    clean = tmp_path / "clean.log"
    clean.write_text("[    1.000000] Linux version 6.12.117\n[    2.000000] Run /init as init process\n")
    binary = tmp_path / "core.bin"
    binary.write_bytes(b"\x00\x01\x02\x03" * 4000)
    return crash, clean, binary, tmp_path / "missing.log"


def test_multi_file_json_lists_errors_and_scans_the_others(files, capsys):
    crash, clean, binary, missing = files
    assert run_cli("--json", str(binary), str(crash), str(missing), str(clean)) == 1
    out = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in out] == [str(binary), str(crash), str(missing), str(clean)]
    assert "binary" in out[0]["error"] and out[0]["reports"] == []
    assert out[1]["reports"][0]["title"] == "BUG: unable to handle page fault in dma_fence_release"
    assert "error" not in out[1]
    assert "cannot read" in out[2]["error"]
    assert out[3] == {"path": str(clean), "reports": []}


def test_exit_status_when_files_error(files, capsys):
    crash, clean, binary, missing = files
    assert run_cli(str(clean)) == 0
    # nothing found, but a file could not be scanned: not a pass
    assert run_cli(str(clean), str(binary)) == 2
    capsys.readouterr()
    assert run_cli("--json", str(missing)) == 2
    assert json.loads(capsys.readouterr().out) == [
        {"path": str(missing), "reports": [], "error": f"{missing}: cannot read: No such file or directory"}]
    # a report anywhere wins: 1, with the error still printed
    assert run_cli(str(binary), str(crash)) == 1
    err = capsys.readouterr().err
    assert "core.bin: binary file" in err


def test_scan_files_library_entry(files):
    crash, clean, binary, missing = files
    res = scan_files([crash, binary])
    assert [bool(r.error) for r in res] == [False, True]
    assert len(res[0].reports) == 1


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit):
        run_cli("--help")
    out = capsys.readouterr().out
    assert "no report was found and a file could not be scanned" in out
    assert "NUL bytes" in out
