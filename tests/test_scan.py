"""Tests of the crash detector (harness.detect.scanner) on small, hand-written logs."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.detect import formats as scan_formats
from harness.cli.scan import register as add_cli
from harness.detect import Report, ScanError, normalize_title, scan_file, scan_lines, scan_text
from harness.detect.prefilter import prefilter_hits

FIX = Path(__file__).parent / "fixtures" / "scan"


def only(text: str) -> Report:
    reps = scan_text(text)
    assert len(reps) == 1, [r.title for r in reps]
    return reps[0]


def stamp(lines: str, start: float = 10.0) -> str:
    """Give every line a kernel timestamp."""
    out = []
    for i, ln in enumerate(lines.strip("\n").split("\n")):
        out.append(f"[{start + i / 1000:12.6f}] {ln}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- fixtures

def test_dma_fence_page_fault_fixture():
    reps = scan_file(FIX / "dma_fence_pf_6.12.log")
    assert len(reps) == 1
    r = reps[0]
    assert r.title == "BUG: unable to handle page fault in dma_fence_release"
    assert r.kind == "PAGE_FAULT"
    assert r.frame == "dma_fence_release"
    assert not r.corrupted
    assert r.last_unloaded == "issuer"
    assert r.modules_linked == ["holder"]
    assert r.module == "holder"  # nearest module frame: holder_exit [holder]
    assert r.step == "unload-holder"
    assert r.tainted == "G O"
    assert r.start_line == 14 and r.end_line == 63
    assert r.text.splitlines()[0] == "BUG: unable to handle page fault for address: ffffffffc0201040"
    assert "BUG: unable to handle kernel paging request in dma_fence_release" in r.alt_titles
    d = r.to_json()
    for key in ("kind", "title", "frame", "corrupted", "module", "last_unloaded", "step",
                "signature", "start_line", "end_line"):
        assert key in d
    json.dumps(d)


def test_dma_fence_fault_with_raw_rip_gets_same_title():
    # Instruction fetch from the unloaded module: RIP is a bare address and
    # the title comes from the call trace.
    text = (FIX / "dma_fence_pf_6.12.log").read_text()
    text = text.replace("RIP: 0010:dma_fence_release+0x8c/0x2f0", "RIP: 0010:0xffffffffc0201040")
    text = text.replace("? dma_fence_release+0x8c/0x2f0", "dma_fence_release+0x8c/0x2f0")
    r = scan_text(text)[0]
    assert r.title == "BUG: unable to handle page fault in dma_fence_release"
    assert not r.corrupted


def test_clean_boot_has_no_report():
    assert scan_file(FIX / "clean_boot.log") == []


def test_host_prefix_caller_ids_and_two_reports():
    reps = scan_file(FIX / "multi_prefixed.log")
    # The fault happened while lockdep printed the lock's name: lockdep
    # printing is a skipped frame (configs/README.md), so the title names
    # the dma-fence function that released the lock (issue 17, point 5).
    assert [r.title for r in reps] == [
        "WARNING: bad unlock balance in dma_fence_get_status",
        "BUG: unable to handle page fault in dma_fence_get_status",
    ]
    assert [r.kind for r in reps] == ["LOCKDEP", "PAGE_FAULT"]
    assert all(r.step == "lockdep-vgem" for r in reps)
    assert reps[1].last_unloaded == "vgem"
    assert reps[0].last_unloaded == "vgem"  # from the oops that followed it in its task
    assert reps[0].start_line == 3  # the ===== line before the header
    # The audit line from another task is not part of the report.
    assert "audit:" not in reps[0].text


def test_step_marker_forms():
    log = (
        "HARNESS-STEP: boot\n"
        "[    1.000000] HARNESS-STEP: load\n"
        "[host +3.5] [    2.000000] HARNESS-STEP-END: load\n"
        + stamp("BUG: scheduling while atomic: insmod/77/0x00000002\nCall Trace:\n"
                " <TASK>\n dump_stack_lvl+0x7d/0xa0\n __schedule_bug+0x8f/0xb0\n"
                " schedule_debug+0x1b0/0x200\n __schedule+0xa0/0x900\n schedule+0x40/0x100\n"
                " foo_init+0x20/0x40 [foo]\n do_one_initcall+0x5b/0x310\n </TASK>\n")
    )
    r = only(log)
    assert r.step == "load"  # last *started* step
    assert r.title == "BUG: scheduling while atomic in foo_init"
    assert r.module == "foo"


def test_no_step_without_markers():
    r = only(stamp("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"))
    assert r.step is None
    assert r.title == "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)"
    assert r.kind == "PANIC"


# ------------------------------------------------------- one per report class

WARN_REFCOUNT = """\
------------[ cut here ]------------
refcount_t: underflow; use-after-free.
WARNING: CPU: 0 PID: 77 at lib/refcount.c:28 refcount_warn_saturate+0xba/0x110
Modules linked in: holder(O-) issuer(O)
CPU: 0 UID: 0 PID: 77 Comm: rmmod Tainted: G        W  O       6.12.117 #1
RIP: 0010:refcount_warn_saturate+0xba/0x110
Call Trace:
 <TASK>
 dma_fence_put+0x40/0x50 [holder]
 holder_exit+0x3a/0x60 [holder]
 __do_sys_delete_module+0x317/0x4c0
 do_syscall_64+0x9e/0x1a0
 </TASK>
---[ end trace 0000000000000000 ]---
"""

CASES = [
    ("refcount", WARN_REFCOUNT, "WARNING: refcount bug in dma_fence_put", "REFCOUNT"),
    ("warning", """\
------------[ cut here ]------------
WARNING: CPU: 1 PID: 1 at drivers/dma-buf/dma-fence.c:563 dma_fence_release+0x140/0x160
Modules linked in:
RIP: 0010:dma_fence_release+0x140/0x160
Call Trace:
 <TASK>
 issuer_exit+0x10/0x20 [issuer]
 </TASK>
---[ end trace 0000000000000000 ]---
""", "WARNING in dma_fence_release", "WARNING"),
    ("kasan", """\
==================================================================
BUG: KASAN: slab-use-after-free in dma_fence_signal_timestamp_locked+0x2c/0x1e0
Read of size 8 at addr ffff888104b6a250 by task kworker/0:1/9
CPU: 0 UID: 0 PID: 9 Comm: kworker/0:1 Not tainted 6.12.117 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 print_report+0xcf/0x610
 kasan_report+0xb5/0xe0
 dma_fence_signal_timestamp_locked+0x2c/0x1e0
 dma_fence_signal+0x40/0x70
 timer_fn+0x20/0x30 [vgem]
 </TASK>
==================================================================
""", "KASAN: slab-use-after-free Read in dma_fence_signal_timestamp_locked", "KASAN"),
    ("kfence", """\
==================================================================
BUG: KFENCE: use-after-free read in dma_fence_default_wait+0x5a/0x250

Use-after-free read at 0x00000000a6b0b1f4 (in kfence-#12):
 dma_fence_default_wait+0x5a/0x250
 dma_fence_wait_timeout+0x80/0x140
 sync_file_ioctl+0x3be/0x7f0
==================================================================
""", "KFENCE: use-after-free read in dma_fence_default_wait", "KFENCE"),
    ("ubsan", """\
UBSAN: array-index-out-of-bounds in drivers/foo/bar.c:12:9
index 8 is out of range for type 'int [8]'
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 __ubsan_handle_out_of_bounds+0xa0/0xd0
 bar_probe+0x99/0xb0
 </TASK>
""", "UBSAN: array-index-out-of-bounds in bar_probe", "UBSAN"),
    ("lockdep-circular", """\
======================================================
WARNING: possible circular locking dependency detected
6.12.117 #1 Not tainted
------------------------------------------------------
sh/77 is trying to acquire lock:
ffff888100a1c0b8 (&fence->lock){....}-{2:2}, at: dma_fence_signal+0x30/0x70

but task is already holding lock:
ffff888100a1d0b8 (&obj->lock){....}-{2:2}, at: holder_work+0x20/0x90 [holder]

which lock already depends on the new lock.

stack backtrace:
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 </TASK>
""", "possible deadlock in dma_fence_signal", "LOCKDEP"),
    ("recursive", """\
============================================
WARNING: possible recursive locking detected
--------------------------------------------
sh/77 is trying to acquire lock:
ffff888100a1c0b8 (&fence->lock){....}-{2:2}, at: dma_fence_add_callback+0x30/0x110

but task is already holding lock:
ffff888100a1c0b8 (&fence->lock){....}-{2:2}, at: dma_fence_signal+0x30/0x70
""", "possible deadlock in dma_fence_add_callback", "LOCKDEP"),
    ("rcu-usage", """\
=============================
WARNING: suspicious RCU usage
6.12.117 #1 Not tainted
-----------------------------
drivers/dma-buf/dma-fence.c:1007 suspicious rcu_dereference_check() usage!
other info that might help us debug this:
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 lockdep_rcu_suspicious+0x150/0x1c0
 dma_fence_timeline_name+0x80/0x90
 </TASK>
""", "WARNING: suspicious RCU usage in dma_fence_timeline_name", "LOCKDEP"),
    ("hung", """\
INFO: task rmmod:88 blocked for more than 122 seconds.
      Tainted: G           O       6.12.117 #1
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
task:rmmod           state:D stack:0     pid:88    tgid:88    ppid:1      flags:0x00004002
Call Trace:
 <TASK>
 __schedule+0x4d0/0x1500
 schedule+0x27/0xf0
 schedule_timeout+0x15d/0x170
 wait_for_completion+0x84/0x140
 dma_fence_default_wait+0x1a2/0x250
 issuer_exit+0x2c/0x60 [issuer]
 </TASK>
""", "INFO: task hung in issuer_exit", "HANG"),
    ("rcu-stall", """\
rcu: INFO: rcu_preempt self-detected stall on CPU
rcu: 	0-....: (21000 ticks this GP) idle=3dc4/1/0x4000000000000000
CPU: 0 UID: 0 PID: 77 Comm: sh Not tainted 6.12.117 #1
Call Trace:
 <IRQ>
 rcu_sched_clock_irq+0x2b0/0x1120
 update_process_times+0x7a/0xb0
 sysvec_apic_timer_interrupt+0x8e/0xb0
 </IRQ>
 <TASK>
 asm_sysvec_apic_timer_interrupt+0x1a/0x20
RIP: 0010:spin_loop_fn+0x10/0x20 [looper]
 looper_write+0x20/0x30 [looper]
 vfs_write+0xf0/0x410
 ksys_write+0x6b/0xe0
 do_syscall_64+0x9e/0x1a0
 </TASK>
""", "INFO: rcu detected stall in looper_write", "RCU_STALL"),
    ("soft-lockup", """\
watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:77]
Modules linked in: looper(O)
CPU: 0 UID: 0 PID: 77 Comm: sh Tainted: G           O L     6.12.117 #1
RIP: 0010:spin_loop_fn+0x10/0x20 [looper]
Call Trace:
 <TASK>
 looper_write+0x20/0x30 [looper]
 vfs_write+0xf0/0x410
 do_syscall_64+0x9e/0x1a0
 </TASK>
""", "BUG: soft lockup in looper_write", "HANG"),
    ("odebug", """\
------------[ cut here ]------------
ODEBUG: free active (active state 0) object: ffff888104b6a240 object type: timer_list hint: vgem_fence_timeout+0x0/0x20 [vgem]
WARNING: CPU: 0 PID: 77 at lib/debugobjects.c:514 debug_print_object+0xa5/0xd0
RIP: 0010:debug_print_object+0xa5/0xd0
Call Trace:
 <TASK>
 debug_check_no_obj_freed+0x1e4/0x290
 kfree+0xf3/0x3a0
 vgem_fence_release+0x1c/0x30 [vgem]
 </TASK>
""", "WARNING: ODEBUG bug in vgem_fence_release", "ODEBUG"),
    ("list", """\
list_del corruption, ffff888104b6a258->next is LIST_POISON1 (dead000000000100)
------------[ cut here ]------------
kernel BUG at lib/list_debug.c:56!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN
RIP: 0010:__list_del_entry_valid_or_report+0xc9/0x100
Call Trace:
 <TASK>
 dma_fence_remove_callback+0x3f/0x70
 holder_exit+0x3a/0x60 [holder]
 </TASK>
""", "BUG: corrupted list in dma_fence_remove_callback", "LIST"),
    ("kmemleak", """\
unreferenced object 0xffff888104b6a240 (size 64):
  comm "insmod", pid 77, jiffies 4294937296
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace (crc 2c1e3a4b):
    kmemleak_alloc+0x4a/0x80
    __kmalloc_cache_noprof+0x2b5/0x370
    issuer_init+0x2a/0xff0 [issuer]
    do_one_initcall+0x5b/0x310
""", "memory leak in issuer_init", "KMEMLEAK"),
    ("gpf", """\
Oops: general protection fault, probably for non-canonical address 0xdffffc0000000003: 0000 [#1] PREEMPT SMP KASAN
KASAN: null-ptr-deref in range [0x0000000000000018-0x000000000000001f]
RIP: 0010:dma_fence_enable_sw_signaling+0x1c/0x50
Call Trace:
 <TASK>
 holder_work+0x20/0x90 [holder]
 </TASK>
""", "general protection fault in dma_fence_enable_sw_signaling", "GPF"),
    ("null", """\
BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: supervisor read access in kernel mode
Oops: Oops: 0000 [#1] PREEMPT SMP
RIP: 0010:dma_fence_get_status+0x12/0x60
Call Trace:
 <TASK>
 sync_file_ioctl+0x3be/0x7f0
 </TASK>
""", "BUG: unable to handle kernel NULL pointer dereference in dma_fence_get_status", "PAGE_FAULT"),
    ("divide", """\
Oops: divide error: 0000 [#1] PREEMPT SMP
RIP: 0010:ratio_show+0x22/0x40 [foo]
Call Trace:
 <TASK>
 dev_attr_show+0x1c/0x40
 </TASK>
""", "divide error in ratio_show", "TRAP"),
    ("kernel-bug", """\
------------[ cut here ]------------
kernel BUG at drivers/dma-buf/dma-fence.c:1031!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP
RIP: 0010:dma_fence_init+0xd2/0xe0
Call Trace:
 <TASK>
 issuer_init+0x2a/0xff0 [issuer]
 </TASK>
""", "kernel BUG in dma_fence_init", "BUG"),
    ("double-fault", """\
BUG: TASK stack guard page was hit at ffffc90000437f58 (stack is ffffc90000438000..ffffc9000043c000)
Oops: stack guard page: 0000 [#1] PREEMPT SMP
RIP: 0010:recurse+0x10/0x20 [deep]
Call Trace:
 <TASK>
 recurse+0x15/0x20 [deep]
 deep_write+0x10/0x20 [deep]
 vfs_write+0xf0/0x410
 do_syscall_64+0x9e/0x1a0
 </TASK>
""", "BUG: stack guard page was hit in deep_write", "STACK"),
    ("sleep-atomic", """\
BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 77, name: sh
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 __might_resched+0x1a2/0x2a0
 mutex_lock_nested+0x1f/0x30
 holder_cb+0x20/0x40 [holder]
 dma_fence_signal_timestamp_locked+0x9a/0x1e0
 </TASK>
""", "BUG: sleeping function called from invalid context in holder_cb", "BUG"),
    ("slab", """\
=============================================================================
BUG kmalloc-64 (Tainted: G    B   O      ): Object already free
-----------------------------------------------------------------------------
""", "BUG: Object already free", "SLAB"),
]


@pytest.mark.parametrize("name,body,title,kind", CASES, ids=[c[0] for c in CASES])
def test_report_classes(name, body, title, kind):
    r = only(stamp(body))
    assert r.title == title
    assert r.kind == kind


@pytest.mark.parametrize("name,body,title,kind", CASES[:4], ids=[c[0] for c in CASES[:4]])
def test_report_classes_without_timestamps(name, body, title, kind):
    r = only(body)
    assert r.title == title


def test_refcount_attribution():
    r = only(stamp(WARN_REFCOUNT))
    assert r.module == "holder"
    assert r.modules_linked == ["holder", "issuer"]
    assert r.modules_unloading == ["holder"]
    assert r.tainted == "G W O"
    assert r.start_line == 1  # the "cut here" line
    assert r.text.splitlines()[1] == "refcount_t: underflow; use-after-free."


def test_verbose_taint_and_unloaded_tainted_modules():
    log = stamp("""\
BUG: unable to handle page fault for address: ffffffffc0201040
CPU: 0 UID: 0 PID: 77 Comm: sh Tainted: [O]=OOT_MODULE, [W]=WARN
Unloaded tainted modules: issuer(O):1
RIP: 0010:0xffffffffc0201040
Call Trace:
 <TASK>
 dma_fence_release+0x8c/0x2f0
 holder_exit+0x3a/0x60 [holder]
 </TASK>
Modules linked in: holder(O)
""")
    r = only(log)
    assert r.tainted == "O W"
    assert r.last_unloaded == "issuer"
    assert r.title == "BUG: unable to handle page fault in dma_fence_release"


def test_corrupted_when_no_frame():
    r = only(stamp("BUG: unable to handle page fault for address: ffffffffc0201040\n"
                   "#PF: supervisor read access in kernel mode\n"))
    assert r.corrupted
    assert r.title == "BUG: unable to handle page fault in corrupted"
    assert r.frame is None


def test_title_normalisation_and_stable_signature():
    a = only(stamp(WARN_REFCOUNT, 5.0))
    b = only(stamp(WARN_REFCOUNT.replace("0x40/0x50", "0x44/0x58").replace("CPU: 0", "CPU: 3"), 99.0))
    assert a.title == b.title and a.signature == b.signature
    assert normalize_title("WARNING in foo at 0xffffffff81234567 CPU#3 line 42") == \
        "WARNING in foo at ADDR CPU line NUM"


def test_selftest_and_user_text_are_not_reports():
    log = stamp("KTAP version 1\n1..2\n    # Subtest: dma-fence\n    ok 1 test_signaling\n"
                "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, "
                "data leaks possible!\nINFO: lockdep is turned off.\nkasan: KernelAddressSanitizer initialized\n")
    log += "WARNING: printed by a user-space program\nBUG: also user space\n"
    assert scan_text(log) == []


def test_scan_lines_matches_scan_text():
    text = (FIX / "multi_prefixed.log").read_text()
    a = [r.to_json() for r in scan_text(text)]
    b = [r.to_json() for r in scan_lines(iter(text.splitlines(keepends=True)))]
    assert a == b


def test_prefilter_sees_every_header():
    for cls in scan_formats.REPORT_CLASSES:
        assert prefilter_hits("xx " + cls.header + " yy"), cls.header
    assert prefilter_hits("HARNESS-STEP: x")
    assert not prefilter_hits("[    1.000000] systemd[1]: Started Journal Service.")


# ------------------------------------------------------------------ inputs

def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01\x02" * 5000)
    with pytest.raises(ScanError, match="binary"):
        scan_file(p)
    elf = tmp_path / "vmlinux"
    elf.write_bytes(b"\x7fELF" + b"\x02\x01\x01" + b"\x00" * 100)
    with pytest.raises(ScanError, match="ELF"):
        scan_file(elf)


def test_stray_nul_is_tolerated(tmp_path):
    p = tmp_path / "console.log"
    p.write_bytes(b"\x00" + (FIX / "dma_fence_pf_6.12.log").read_bytes())
    assert len(scan_file(p)) == 1


def test_unreadable_and_missing(tmp_path):
    with pytest.raises(ScanError, match="cannot read"):
        scan_file(tmp_path / "nope.log")
    with pytest.raises(ScanError, match="directory"):
        scan_file(tmp_path)


def test_gzip_log(tmp_path):
    p = tmp_path / "console.log.gz"
    p.write_bytes(gzip.compress((FIX / "dma_fence_pf_6.12.log").read_bytes()))
    assert scan_file(p)[0].title == "BUG: unable to handle page fault in dma_fence_release"


def test_endless_line_and_line_numbers(tmp_path):
    p = tmp_path / "long.log"
    with open(p, "wb") as f:
        f.write(b"x" * (3 << 20))  # 3 MiB without a newline
        f.write(b"\n" + (FIX / "dma_fence_pf_6.12.log").read_bytes())
    r = scan_file(p)[0]
    assert r.title == "BUG: unable to handle page fault in dma_fence_release"
    # the endless line is cut into pieces, so only check the report is whole
    assert r.end_line - r.start_line == 49


# --------------------------------------------------------------------- CLI

def run_cli(*args: str) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    add_cli(parser.add_subparsers(dest="cmd"))
    ns = parser.parse_args(["scan", *args])
    return ns.func(ns)


def test_cli_exit_codes_and_json(tmp_path, capsys):
    assert run_cli(str(FIX / "clean_boot.log")) == 0
    assert run_cli(str(FIX / "dma_fence_pf_6.12.log")) == 1
    out = capsys.readouterr().out
    assert "PAGE_FAULT" in out and "last_unloaded=issuer" in out and "step=unload-holder" in out
    assert run_cli("--json", str(FIX / "dma_fence_pf_6.12.log"), str(FIX / "clean_boot.log")) == 1
    data = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in data] == [str(FIX / "dma_fence_pf_6.12.log"), str(FIX / "clean_boot.log")]
    rep = data[0]["reports"][0]
    assert rep["title"] == "BUG: unable to handle page fault in dma_fence_release"
    assert rep["last_unloaded"] == "issuer" and rep["start_line"] == 14
    assert data[1]["reports"] == []
    assert run_cli(str(tmp_path / "missing.log")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness", "scan", "--json", str(FIX / "clean_boot.log")],
                          capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["reports"] == []


# ----------------------------------------------------------- symbolisation

@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("addr2line")),
                    reason="gcc and addr2line are needed to build and read a tiny ELF")
def test_symbolize_vmlinux_and_module(tmp_path):
    from harness.detect.symbolize import Symbolizer

    src = tmp_path / "fence.c"
    src.write_text(
        "static int helper(int x) { return x * 3; }\n"
        "__attribute__((noinline)) int dma_fence_release(int x) {\n"
        "    volatile int y = helper(x);\n"
        "    return y + 1;\n"
        "}\n"
        "int main(int argc, char **argv) { return dma_fence_release(argc); }\n")
    subprocess.run(["gcc", "-g", "-O1", "-o", str(tmp_path / "vmlinux"), str(src)], check=True)
    subprocess.run(["gcc", "-g", "-O1", "-c", "-o", str(tmp_path / "holder.ko"), str(src)], check=True)
    sym = Symbolizer(vmlinux=tmp_path / "vmlinux", modules=[tmp_path])
    out = sym.symbolize_line(" dma_fence_release+0x4/0x20")
    assert out.endswith("fence.c:3"), out
    out = sym.symbolize_line(" dma_fence_release+0x4/0x20 [holder]")
    assert "fence.c:3 [holder]" in out, out
    assert sym.symbolize_line(" unknown_fn+0x4/0x20") == " unknown_fn+0x4/0x20"
    r = only(stamp("BUG: unable to handle page fault for address: ffffffffc0201040\n"
                   "RIP: 0010:dma_fence_release+0x4/0x20\nCall Trace:\n <TASK>\n"
                   " dma_fence_release+0x4/0x20 [holder]\n </TASK>\n"))
    sym.symbolize_report(r)
    assert r.location is not None and r.location.endswith("fence.c:3"), r.text
    assert "fence.c:3 [holder]" in r.text
