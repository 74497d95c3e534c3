"""Issue 17, point 1: no report from lines that are not the kernel's.

tests/corpora/negative holds clean logs of different origins (README.md
there says where each comes from): our own guests' boots under every
profile and variant, clean cells of real runs, firmware and boot-loader
preambles (coreboot/depthcharge, U-Boot, TF-A, UEFI, OpenSBI, SeaBIOS and
the x86 decompressor, vendor dumps), CI harness output (LAVA, KernelCI,
kselftest, LTP, GitLab, GitHub Actions, Jenkins), user space and kernel
noise ("error -N", firmware bugs, mitigation notes, build and checkpatch
output).  Every one must give zero reports.

The other tests check the rule from the other side: a real report keeps
being found next to that noise.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.detect import scan_bytes, scan_file, scan_text

NEG = Path(__file__).parent / "corpora" / "negative"
LOGS = sorted(NEG.rglob("*.log"))
REAL = Path(__file__).parent / "fixtures" / "scan" / "real"


def test_corpus_is_big_and_varied():
    assert len(LOGS) >= 50
    origins = Counter(p.relative_to(NEG).parts[0] for p in LOGS)
    assert set(origins) == {"guests", "cells", "firmware", "ci", "userspace"}, origins
    profiles = {p.stem.rsplit("-", 1)[-1] for p in (NEG / "guests").glob("*.log")}
    assert {"debug", "fast"} <= profiles, profiles
    variants = {p.stem.split("-", 1)[1].rsplit("-", 1)[0] for p in (NEG / "guests").glob("*.log")}
    assert {"baseline", "rcu-ops", "inline-lock"} <= variants, variants
    assert sum(p.stat().st_size for p in LOGS) < 3_000_000


@pytest.mark.parametrize("path", LOGS, ids=[str(p.relative_to(NEG)) for p in LOGS])
def test_clean_log_gives_no_report(path):
    reps = scan_file(path)
    assert reps == [], [(r.start_line, r.kind, r.title) for r in reps]


# --------------------------------------------------------- the other side

WARN_X86 = """\
------------[ cut here ]------------
WARNING: CPU: 0 PID: 77 at drivers/dma-buf/dma-fence.c:563 dma_fence_release+0x140/0x160
Modules linked in: holder(O) [last unloaded: issuer(O)]
CPU: 0 UID: 0 PID: 77 Comm: rmmod Tainted: G           O       6.12.117 #1
RIP: 0010:dma_fence_release+0x140/0x160
Call Trace:
 <TASK>
 dma_fence_put+0x40/0x50 [holder]
 holder_exit+0x3a/0x60 [holder]
 </TASK>
---[ end trace 0000000000000000 ]---
"""


def test_report_after_firmware_noise_without_timestamps():
    """printk.time=0: firmware WARNINGs are dropped, the kernel's kept."""
    text = (NEG / "firmware" / "depthcharge-kukui-arm64-notime.log").read_text()
    reps = scan_text(text + WARN_X86)
    assert [r.title for r in reps] == ["WARNING in dma_fence_release"]
    assert reps[0].last_unloaded == "issuer"
    assert reps[0].start_line == text.count("\n") + 1


def test_report_in_a_stamped_log_after_firmware_noise():
    text = (NEG / "firmware" / "coreboot-depthcharge-volteer-x86.log").read_text()
    stamped = "".join(f"[   20.{i:06d}] {ln}\n" for i, ln in enumerate(WARN_X86.splitlines()))
    reps = scan_text(text + stamped)
    assert [r.title for r in reps] == ["WARNING in dma_fence_release"]


def test_free_text_followed_by_kernel_evidence_is_a_report():
    """An old or unusual header (no format of ours knows it) is still a
    report when a trace follows it."""
    body = ("WARNING: something the table does not know!\n"
            "Modules linked in: holder(O)\n"
            "CPU: 0 UID: 0 PID: 77 Comm: sh Not tainted 6.12.117 #1\n"
            "Call Trace:\n <TASK>\n holder_poke+0x10/0x20 [holder]\n </TASK>\n")
    reps = scan_text(body)
    assert len(reps) == 1 and reps[0].title.startswith("WARNING: something the table does not know")
    # without the trace it is a firmware/harness line
    assert scan_text("WARNING: something the table does not know!\nsome other line\n") == []


def test_quoted_crash_is_not_a_report_but_the_real_one_is():
    quoted = (NEG / "userspace" / "checkpatch.log").read_text()
    assert "  BUG: unable to handle page fault" in quoted
    real = (REAL / "vgem_close_after_unload.log").read_text()
    reps = scan_text(quoted + real)
    assert [r.title for r in reps] == ["BUG: unable to handle page fault in dma_fence_release"]


def test_kernel_message_starting_with_the_word_is_a_report():
    """syzkaller's table counts a kernel's own "WARNING: foo" message; a word
    inside a kernel message after its prefix is not one."""
    log = "[   10.000000] WARNING: foo\n[   10.000100] nouveau  [     DRM] suspending\n[   10.1] x\n"
    assert [r.title for r in scan_text(log)] == ["WARNING: foo"]
    log = "[   10.000000] arch_timer: WARNING: Please fix your firmware\n[   10.1] x\n"
    assert scan_text(log) == []


def test_go_panic_needs_the_go_runtime_dump():
    assert scan_text("panic: all good\n/ # echo done\n") == []
    reps = scan_text("panic: runtime error: index out of range [3] with length 3\n\n"
                     "goroutine 1 [running]:\nmain.main()\n\t/tmp/x.go:5 +0x1d\n")
    assert [r.title for r in reps] == ["panic: runtime error: index out of range [NUM] with length NUM"]


def test_x86_decompressor_first_boot_and_a_real_reboot():
    first = (NEG / "firmware" / "seabios-ipxe-decompressor-x86.log").read_bytes()
    assert scan_bytes(first) == []
    # the same boot after a running kernel: the machine rebooted
    real = (REAL / "vgem_close_after_unload.log").read_bytes()
    reps = scan_bytes(real + first)
    assert [r.kind for r in reps] == ["PAGE_FAULT", "REBOOT"], [r.title for r in reps]
