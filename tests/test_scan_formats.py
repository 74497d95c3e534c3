"""Issue 17, point 3: report headers the 6.12 kernel prints (checked against
its printk formats: kernel/cfi.c, kernel/watchdog.c, lib/ubsan.c,
mm/kfence/report.c, mm/kmsan/report.c, kernel/workqueue.c, lib/list_debug.c,
lib/refcount.c, kernel/panic.c) are detected and titled.  Each body is the
kernel's own output for that report, as printed by 6.12 (x86 unless named)."""

from __future__ import annotations

import pytest

from harness.detect import scan_text
from harness.detect import formats as F
from harness.detect.prefilter import prefilter_hits


def stamp(lines: str, start: float = 10.0) -> str:
    return "".join(f"[{start + i / 1000:12.6f}] {ln}\n" for i, ln in enumerate(lines.strip("\n").split("\n")))


def one(body: str):
    reps = scan_text(stamp(body))
    assert len(reps) == 1, [(r.kind, r.title) for r in reps]
    return reps[0]


CFI_X86 = """\
CFI failure at tcp_set_ca_state+0x51/0xd0 (target: bpf_struct_ops_cc_state+0x0/0x20; expected type: 0x3a47ac32)
Oops: invalid opcode: 0000 [#1] PREEMPT SMP PTI
CPU: 3 UID: 0 PID: 2142 Comm: test_progs Tainted: G           O       6.12.117 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:tcp_set_ca_state+0x51/0xd0
RSP: 0018:ffffc90000e2fb68 EFLAGS: 00010217
Call Trace:
 <TASK>
 ? die+0x30/0x50
 ? handle_invalid_op+0x2c/0x40
 ? tcp_set_ca_state+0x51/0xd0
 tcp_enter_loss+0x2bd/0x3c0
 tcp_retransmit_timer+0x4e2/0x9e0
 tcp_write_timer_handler+0xe8/0x210
 call_timer_fn+0x2c/0x110
 </TASK>
Modules linked in: bpf_testmod(O)
---[ end trace 0000000000000000 ]---
"""

CFI_PERMISSIVE = """\
CFI failure at dev_attr_show+0x24/0x60 (target: show_status+0x0/0x70; expected type: 0x8651b1de)
WARNING: CPU: 2 PID: 16519 at dev_attr_show+0x24/0x60
Modules linked in: binfmt_misc amd_pstate_ut(O)
CPU: 2 UID: 1000 PID: 16519 Comm: cat Tainted: G           O       6.12.117 #1
RIP: 0010:dev_attr_show+0x24/0x60
Call Trace:
 <TASK>
 sysfs_kf_seq_show+0xa6/0x110
 seq_read_iter+0x16c/0x4b0
 vfs_read+0x272/0x2d0
 </TASK>
---[ end trace 0000000000000000 ]---
"""

CFI_ARM64 = """\
CFI failure at do_one_initcall+0xec/0x26c (target: __rust_minimal_init+0x0/0x64; expected type: 0x36b1c5a6)
Internal error: Oops - CFI: 00000000f2008233 [#1] PREEMPT SMP
Modules linked in:
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117 #10
Hardware name: linux,dummy-virt (DT)
pc : do_one_initcall+0xec/0x26c
lr : do_initcall_level+0x8c/0xb0
Call trace:
 do_one_initcall+0xec/0x26c
 do_initcall_level+0x8c/0xb0
 kernel_init_freeable+0x118/0x190
 kernel_init+0x24/0x138
 ret_from_fork+0x10/0x20
---[ end trace 0000000000000000 ]---
"""

# The caller is a generic helper (kobject_put): the frame comes from its callers.
CFI_HELPER = """\
CFI failure at kobject_put+0xbb/0x1b0 (target: kfree+0x0/0x180; expected type: 0x7c4aa698)
Oops: invalid opcode: 0000 [#1] PREEMPT SMP
CPU: 1 UID: 0 PID: 300 Comm: rmmod Not tainted 6.12.117 #1
RIP: 0010:kobject_put+0xbb/0x1b0
Call Trace:
 <TASK>
 ext4_exit_sysfs+0x14/0x60 [ext4]
 cleanup_module+0x67/0xedb [ext4]
 __do_sys_delete_module+0x317/0x4c0
 </TASK>
"""

HARD_LOCKUP = """\
watchdog: Watchdog detected hard LOCKUP on cpu 1
Modules linked in: looper(O)
CPU: 1 UID: 0 PID: 77 Comm: sh Tainted: G           O       6.12.117 #1
RIP: 0010:spin_irqoff_loop+0x10/0x20 [looper]
Call Trace:
 <NMI>
 watchdog_hardlockup_check+0x1b0/0x260
 </NMI>
 <TASK>
 looper_write+0x20/0x30 [looper]
 vfs_write+0xf0/0x410
 ksys_write+0x6b/0xe0
 do_syscall_64+0x9e/0x1a0
 </TASK>
Kernel panic - not syncing: Hard LOCKUP
"""

UBSAN_TRAP_X86 = """\
UBSAN: array index out of bounds at bar_probe+0x99/0xb0 [foo]
Oops: invalid opcode: 0000 [#1] PREEMPT SMP
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117 #1
RIP: 0010:bar_probe+0x99/0xb0 [foo]
Call Trace:
 <TASK>
 platform_probe+0x40/0xa0
 really_probe+0xde/0x380
 </TASK>
"""

UBSAN_TRAP_ARM64 = """\
Internal error: UBSAN: array index out of bounds: 00000000f2005512 [#1] PREEMPT SMP
Modules linked in: foo
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117 #1
pc : bar_probe+0x99/0xb0 [foo]
lr : platform_probe+0x40/0xa0
Call trace:
 bar_probe+0x99/0xb0 [foo]
 platform_probe+0x40/0xa0
 really_probe+0xde/0x380
"""


def ubsan(reason: str, handler: str) -> str:
    return f"""\
UBSAN: {reason} in drivers/foo/bar.c:77:12
shift exponent 64 is too large for 64-bit type 'long unsigned int'
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 {handler}+0x1a0/0x300
 bar_compute+0x55/0x60
 bar_probe+0x99/0xb0
 </TASK>
---[ end trace ]---
"""


KMSAN = """\
=====================================================
BUG: KMSAN: uninit-value in dma_fence_describe+0x1f1/0x220
 dma_fence_describe+0x1f1/0x220
 dma_resv_describe+0x9e/0x170
 dma_buf_debug_show+0x2a1/0x600
 seq_read_iter+0x6f3/0x1d10

Uninit was created at:
 slab_post_alloc_hook+0x12f/0xb70
 __kmalloc_cache_noprof+0x4b2/0x950
 issuer_init+0x2a/0xff0 [issuer]

CPU: 0 UID: 0 PID: 77 Comm: cat Tainted: G           O       6.12.117 #1
=====================================================
"""


def kfence(kind: str, func: str, detail: str) -> str:
    return f"""\
==================================================================
BUG: KFENCE: {kind} in {func}+0x2c/0x50 [holder]

{detail} at 0x000000007a3c1d07 (64B right of kfence-#42):
 {func}+0x2c/0x50 [holder]
 holder_init+0x40/0xff0 [holder]
 do_one_initcall+0x5b/0x310

kfence-#42: 0x00000000d0a2b97f-0x00000000d0a2b9be, size=64, cache=kmalloc-64

allocated by task 77 on cpu 0 at 5.123456s:
 __kmalloc_cache_noprof+0x2b5/0x370
 holder_init+0x2a/0xff0 [holder]
 do_one_initcall+0x5b/0x310

CPU: 0 UID: 0 PID: 77 Comm: insmod Tainted: G           O       6.12.117 #1
==================================================================
"""


WQ_LEAKED = """\
BUG: workqueue leaked atomic, lock or RCU: kworker/0:1[9]
     preempt=0x00000000 lock=1->0 RCU=0->0 workfn=holder_work [holder]
1 lock held by kworker/0:1/9:
CPU: 0 UID: 0 PID: 9 Comm: kworker/0:1 Tainted: G           O       6.12.117 #1
Workqueue: events holder_work [holder]
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 process_one_work+0x5e0/0x700
 </TASK>
"""

WQ_LOCKUP = """\
BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 33s!
Showing busy workqueues and worker pools:
workqueue events: flags=0x0
  pwq 0: cpus=0 node=0 flags=0x0 nice=0 active=2 refcnt=3
    in-flight: 9:holder_work [holder]
"""

BAD_PAGE = """\
BUG: Bad page state in process sh  pfn:104b6a
page: refcount:0 mapcount:1 mapping:0000000000000000 index:0x0 pfn:0x104b6a
flags: 0x200000000000000(node=0|zone=2)
page dumped because: nonzero mapcount
page_owner tracks the page as allocated
page last allocated via order 0, migratetype Unmovable, gfp_mask 0xcc0(GFP_KERNEL), pid 77, tgid 77 (insmod)
 post_alloc_hook+0x1c0/0x1e0
 get_page_from_freelist+0x1d06/0x3780
 __alloc_pages_noprof+0x2b2/0x690
 holder_grab_pages+0x55/0x90 [holder]
 holder_init+0x40/0xff0 [holder]
page last free pid 1 tgid 1 stack trace:
 free_unref_page+0x2d5/0x5f0
Modules linked in: holder(O)
CPU: 0 UID: 0 PID: 77 Comm: sh Tainted: G    B      O       6.12.117 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 bad_page+0x70/0x110
 free_unref_page+0x2d5/0x5f0
 holder_release_pages+0x40/0x90 [holder]
 </TASK>
"""

LIST_WARN = """\
list_add corruption. next->prev should be prev (ffff888104b6a258), but was ffff888104b6a000. (next=ffff888104b6a300).
------------[ cut here ]------------
WARNING: CPU: 0 PID: 77 at lib/list_debug.c:29 __list_add_valid_or_report+0x9a/0xd0
Modules linked in: holder(O)
RIP: 0010:__list_add_valid_or_report+0x9a/0xd0
Call Trace:
 <TASK>
 dma_fence_add_callback+0xa2/0x140
 holder_arm+0x30/0x60 [holder]
 </TASK>
---[ end trace 0000000000000000 ]---
"""

LIST_BUG = """\
list_add corruption. prev->next should be next (ffff888104b6a258), but was 0000000000000000. (prev=ffff888104b6a240).
------------[ cut here ]------------
kernel BUG at lib/list_debug.c:32!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN
RIP: 0010:__list_add_valid_or_report+0xb5/0xd0
Call Trace:
 <TASK>
 dma_fence_add_callback+0xa2/0x140
 holder_arm+0x30/0x60 [holder]
 </TASK>
"""


def refcount(msg: str, at: str = "lib/refcount.c:28 ") -> str:
    return f"""\
------------[ cut here ]------------
refcount_t: {msg}.
WARNING: CPU: 0 PID: 77 at {at}refcount_warn_saturate+0xba/0x110
Modules linked in: holder(O-)
RIP: 0010:refcount_warn_saturate+0xba/0x110
Call Trace:
 <TASK>
 dma_fence_put+0x40/0x50 [holder]
 holder_exit+0x3a/0x60 [holder]
 </TASK>
---[ end trace 0000000000000000 ]---
"""


def panic(msg: str) -> str:
    return (f"Kernel panic - not syncing: {msg}\nCPU: 0 UID: 0 PID: 1 Comm: init Not tainted 6.12.117 #1\n"
            "Call Trace:\n <TASK>\n dump_stack_lvl+0x7d/0xa0\n panic+0x1e0/0x3b0\n do_exit+0x9a0/0xaa0\n"
            f" </TASK>\n---[ end Kernel panic - not syncing: {msg} ]---\n")


CASES = [
    ("kcfi-x86", CFI_X86, "CFI", "CFI failure in tcp_set_ca_state"),
    ("kcfi-permissive", CFI_PERMISSIVE, "CFI", "CFI failure in dev_attr_show"),
    ("kcfi-arm64", CFI_ARM64, "CFI", "CFI failure in do_one_initcall"),
    ("kcfi-helper-caller", CFI_HELPER, "CFI", "CFI failure in ext4_exit_sysfs"),
    ("hard-lockup", HARD_LOCKUP, "HANG", "hard LOCKUP in looper_write"),
    ("ubsan-trap-x86", UBSAN_TRAP_X86, "UBSAN", "UBSAN: array index out of bounds in bar_probe"),
    ("ubsan-trap-arm64", UBSAN_TRAP_ARM64, "UBSAN", "UBSAN: array index out of bounds in bar_probe"),
    ("ubsan-shift", ubsan("shift-out-of-bounds", "__ubsan_handle_shift_out_of_bounds"), "UBSAN",
     "UBSAN: shift-out-of-bounds in bar_compute"),
    ("ubsan-overflow", ubsan("signed-integer-overflow", "handle_overflow"), "UBSAN",
     "UBSAN: signed-integer-overflow in bar_compute"),
    ("ubsan-division", ubsan("division-overflow", "__ubsan_handle_divrem_overflow"), "UBSAN",
     "UBSAN: division-overflow in bar_compute"),
    ("ubsan-invalid-load", ubsan("invalid-load", "__ubsan_handle_load_invalid_value"), "UBSAN",
     "UBSAN: invalid-load in bar_compute"),
    ("kmsan", KMSAN, "KMSAN", "KMSAN: uninit-value in dma_fence_describe"),
    ("kfence-oob", kfence("out-of-bounds write", "holder_fill", "Out-of-bounds write"), "KFENCE",
     "KFENCE: out-of-bounds write in holder_fill"),
    ("kfence-uaf", kfence("use-after-free read", "holder_peek", "Use-after-free read"), "KFENCE",
     "KFENCE: use-after-free read in holder_peek"),
    ("kfence-invalid", kfence("invalid read", "holder_peek", "Invalid read"), "KFENCE",
     "KFENCE: invalid read in holder_peek"),
    ("kfence-corruption", kfence("memory corruption", "holder_free", "Corrupted memory"), "KFENCE",
     "KFENCE: memory corruption in holder_free"),
    ("workqueue-leaked", WQ_LEAKED, "BUG", "BUG: workqueue leaked lock or atomic in holder_work"),
    ("workqueue-lockup", WQ_LOCKUP, "HANG", "BUG: workqueue lockup"),
    ("rss-counter", "BUG: Bad rss-counter state mm:00000000a6b0b1f4 type:MM_ANONPAGES val:1 Comm:sh Pid:77\n",
     "BAD_PAGE", "BUG: Bad rss-counter state"),
    ("bad-page-state", BAD_PAGE, "BAD_PAGE", "BUG: Bad page state in holder_grab_pages"),
    ("list-add-warn", LIST_WARN, "LIST", "WARNING in dma_fence_add_callback"),
    ("list-add-bug", LIST_BUG, "LIST", "BUG: corrupted list in dma_fence_add_callback"),
    ("refcount-saturated", refcount("saturated; leaking memory"), "REFCOUNT", "WARNING: refcount bug in dma_fence_put"),
    ("refcount-addition", refcount("addition on 0; use-after-free"), "REFCOUNT",
     "WARNING: refcount bug in dma_fence_put"),
    ("refcount-underflow", refcount("underflow; use-after-free"), "REFCOUNT", "WARNING: refcount bug in dma_fence_put"),
    ("refcount-decrement", refcount("decrement hit 0; leaking memory"), "REFCOUNT",
     "WARNING: refcount bug in dma_fence_put"),
    ("refcount-no-bugverbose", refcount("underflow; use-after-free", at=""), "REFCOUNT",
     "WARNING: refcount bug in dma_fence_put"),
    ("panic-softlockup", panic("softlockup: hung tasks"), "PANIC", "kernel panic: softlockup: hung tasks"),
    ("panic-hard-lockup", panic("Hard LOCKUP"), "PANIC", "kernel panic: Hard LOCKUP"),
    ("panic-init", panic("Attempted to kill init! exitcode=0x0000000b"), "PANIC", "kernel panic: Attempted to kill init!"),
    ("panic-vfs", panic("VFS: Unable to mount root fs on unknown-block(0,0)"), "PANIC",
     "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)"),
    ("panic-oom", panic("System is deadlocked on memory"), "PANIC", "kernel panic: System is deadlocked on memory"),
    ("panic-stack-protector", panic("stack-protector: Kernel stack is corrupted in: holder_exit+0x3a/0x60 [holder]"),
     "STACK", "kernel panic: stack is corrupted in holder_exit"),
    ("rcu-tasks", "INFO: rcu_tasks detected stalls on tasks:\n00000000a6b0b1f4: .. nvcsw: 2/2 holdout: 1\n",
     "RCU_STALL", "INFO: rcu_tasks detected stalls"),
]


@pytest.mark.parametrize("name,body,kind,title", CASES, ids=[c[0] for c in CASES])
def test_kernel_report_formats(name, body, kind, title):
    r = one(body)
    assert (r.kind, r.title) == (kind, title)
    assert not r.corrupted, r.corrupted_reason


def test_fatal_exception_panic_alone_is_a_corrupted_report():
    r = one(panic("Fatal exception in interrupt"))
    assert r.title == "kernel panic: Fatal exception" and r.corrupted


def test_kcfi_is_one_report_with_its_oops_or_warning():
    for body, follow in ((CFI_X86, "Oops: invalid opcode"), (CFI_PERMISSIVE, "WARNING: CPU: 2 PID: 16519"),
                         (CFI_ARM64, "Internal error: Oops - CFI")):
        r = one(body)
        assert r.start_line == 1
        assert follow in r.text
    assert one(CFI_PERMISSIVE).modules_linked == ["binfmt_misc", "amd_pstate_ut"]
    assert one(CFI_X86).modules_linked == ["bpf_testmod"]


def test_new_headers_pass_the_prefilter():
    for line in ("CFI failure at foo+0x1/0x2 (target: bar+0x0/0x10; expected type: 0x1)",
                 "watchdog: Watchdog detected hard LOCKUP on cpu 1",
                 "UBSAN: array index out of bounds at bar+0x1/0x2"):
        assert prefilter_hits(line), line
    for cls in F.REPORT_CLASSES:
        assert prefilter_hits("xx " + cls.header + " yy"), cls.header


def test_compiler_fatal_error_is_not_a_go_runtime_error():
    log = stamp("systemd[1]: Started Journal Service.") + \
        "drivers/foo/bar.c:12:10: fatal error: linux/foo.h: No such file or directory\n" + \
        "compilation terminated.\n"
    assert scan_text(log) == []
    assert scan_text("fatal error: runtime: bad p\n\nruntime stack:\n")[0].title == "go runtime error"
