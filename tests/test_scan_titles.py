"""Issue 17, point 4: titles follow the kernel's words, as syzbot's do (the
title is the de-duplication signature other tools share)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.cli.scan import register
from harness.detect import scan_bytes, scan_text

FIX = Path(__file__).parent / "fixtures" / "scan"


def stamp(lines: str, start: float = 10.0, ctx: str = "") -> str:
    return "".join(f"[{start + i / 1000:12.6f}]{ctx} {ln}\n" for i, ln in enumerate(lines.strip("\n").split("\n")))


ARM64_PAGING = """\
Unable to handle kernel paging request at virtual address dead000000000108
Mem abort info:
  ESR = 0x0000000096000044
  EC = 0x25: DABT (current EL), IL = 32 bits
[dead000000000108] address between user and kernel address ranges
Internal error: Oops: 0000000096000044 [#1] PREEMPT SMP
Modules linked in: holder(O) [last unloaded: issuer(O)]
CPU: 1 UID: 0 PID: 77 Comm: rmmod Tainted: G           O       6.12.117 #1
Hardware name: linux,dummy-virt (DT)
pc : dma_fence_release+0x3c/0x1a0
lr : dma_fence_put+0x40/0x50 [holder]
Call trace:
 dma_fence_release+0x3c/0x1a0
 dma_fence_put+0x40/0x50 [holder]
 holder_exit+0x3a/0x60 [holder]
---[ end trace 0000000000000000 ]---
"""

X86_OLD_PAGING = """\
BUG: unable to handle kernel paging request at ffffffffc0201040
IP: dma_fence_release+0x8c/0x2f0
PGD 2a1e067 P4D 2a1e067 PUD 2a20067 PMD 1044d067 PTE 0
Oops: 0010 [#1] PREEMPT SMP KASAN
Modules linked in: holder(O) [last unloaded: issuer]
RIP: 0010:dma_fence_release+0x8c/0x2f0
Call Trace:
 dma_fence_put+0x5e/0x80 [holder]
 holder_exit+0x3a/0x60 [holder]
"""

PPC_DATA_ACCESS = """\
BUG: Unable to handle kernel data access on read at 0xc0080000002a0010
Faulting instruction address: 0xc000000000a5b5ac
Oops: Kernel access of bad area, sig: 11 [#1]
Modules linked in: holder(O) [last unloaded: issuer]
NIP:  c000000000a5b5ac LR: c0080000002c0123 CTR: c000000000a5b570
NIP [c000000000a5b5ac] dma_fence_release+0x3c/0x1a0
Call Trace:
[c00000000a2afb40] [c0080000002c0123] dma_fence_put+0x40/0x50 [holder]
[c00000000a2afb70] [c0080000002c0200] holder_exit+0x3a/0x60 [holder]
"""


@pytest.mark.parametrize("body", [ARM64_PAGING, X86_OLD_PAGING, PPC_DATA_ACCESS], ids=["arm64", "x86-4.19", "ppc"])
@pytest.mark.parametrize("ctx", ["", "[  T77]"], ids=["console", "caller-id"])
def test_kernel_paging_request_is_titled_so(body, ctx):
    reps = scan_text(stamp(body, ctx=ctx))
    assert [r.title for r in reps] == ["BUG: unable to handle kernel paging request in dma_fence_release"]
    assert reps[0].last_unloaded == "issuer"


def test_x86_page_fault_for_address_keeps_its_words():
    """Our x86 guests print "unable to handle page fault for address": the
    title keeps those words; syzbot's spelling of it is an alternative title."""
    r = scan_text((FIX / "dma_fence_pf_6.12.log").read_text())[0]
    assert r.title == "BUG: unable to handle page fault in dma_fence_release"
    assert "BUG: unable to handle kernel paging request in dma_fence_release" in r.alt_titles


@pytest.mark.parametrize("tail", ["INFO: t", "INFO: t\n", "INFO: task fenceutil:4", "BUG: unable"])
def test_log_cut_in_a_report_header(tail):
    """A log that ends in the middle of a report's first line: a corrupted
    report titled by its header word, not by the fragment ("INFO: t")."""
    log = stamp("random: crng init done\nRun /init as init process\nfenceutil: waiting") + "[  245.123456] " + tail
    reps = scan_bytes(log.encode())
    assert len(reps) == 1
    header = tail.split(":")[0] + ":"
    assert reps[0].title == f"{header} corrupted", reps[0].title
    assert reps[0].corrupted and reps[0].corrupted_reason == "report cut at the end of the log"


def test_complete_one_line_report_is_titled_by_its_words():
    """A kernel line whose words name a report (a bare "WARNING: foo" printed
    by the kernel, as in syzkaller's tables) keeps them when the log goes on."""
    log = stamp("WARNING: foo\nnouveau  [     DRM] suspending kernel object tree...\nsystemd[1]: ok")
    assert [r.title for r in scan_text(log)] == ["WARNING: foo"]


def test_text_output_prints_the_kind_once(tmp_path, capsys):
    log = tmp_path / "kasan.log"
    log.write_bytes((FIX / "real" / "kasan_status_extern_heap.log").read_bytes())
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="cmd"))
    ns = parser.parse_args(["scan", str(log)])
    assert ns.func(ns) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"{log}:17-136: KASAN: slab-use-after-free Read in dma_fence_get_status "
                        "[KASAN module=fence_holder last_unloaded=fence_issuer step=status]"), lines[0]
    assert not any("KASAN: KASAN:" in ln for ln in lines)
