"""The table of kernel crash-report formats used by :mod:`harness.detect.scanner`.

Everything the detector knows about *what* a kernel report looks like lives
here, as data: which substring starts a report, how its title is built, where
the guilty stack frame is taken from and which frames are generic helpers that
never name a bug.  :mod:`harness.detect.scanner` holds only the machinery that applies
this table to a log.

The titles follow the convention kernel developers already use for crashes
(the one syzbot uses), so that a crash seen by this harness reads the same as
the same crash reported elsewhere.  The format facts (which lines the kernel
prints, which title each gets) were learnt from reading syzkaller's
``pkg/report``; the code and the table layout here are our own.

Why this module is long: it is data, not logic -- one entry per kernel
report format (about 130 of them, each a title regex, a title template and
where its frame comes from) plus the lists of generic frames that never name
a bug.  Split across files the table would lose what makes it readable: one
place to look up what a header becomes, in the order the formats are tried.
The machinery that applies it lives in the small modules next to it.

Regex macros, expanded by :func:`rx`:

``<PC>``    a bracketed code address, ``[<ffffffff81234567>]``
``<FUNC>``  a function name followed by ``+`` or ``.``; captures the name
``<SRC>``   a ``path/file.c:123`` source location; captures it

Title templates use ``{1}``, ``{2}`` ... for the groups captured by the
format's ``report`` regex (or ``title`` regex when there is no ``report``),
followed by the guilty frames extracted by its :class:`Stack` spec, in order.

Report kinds (``Report.kind``):

=============  ==============================================================
BUG            generic ``BUG:`` / ``kernel BUG at`` / sleeping in atomic ...
PAGE_FAULT     unable to handle page fault / paging request / NULL pointer
GPF            general protection fault, stack segment fault
KASAN          KASAN reports (use-after-free, out-of-bounds, invalid-free)
KMSAN, KCSAN   the other sanitizers
KFENCE         KFENCE reports
UBSAN          undefined behaviour sanitizer
LOCKDEP        lockdep splats: deadlocks, bad unlock balance, held lock
               freed, inconsistent lock state, suspicious RCU usage ...
WARNING        ``WARNING:`` splats (``------------[ cut here ]``)
REFCOUNT       ``refcount_t`` warnings
CFI            kernel Control Flow Integrity failures (kCFI)
ODEBUG         debugobjects warnings
LIST           list corruption (list_debug)
KMEMLEAK       memory leaks (``unreferenced object``, ``BUG: memory leak``)
HANG           hung task, task can't die, soft / hard lockup, workqueue lockup
RCU_STALL      RCU CPU stall
PANIC          ``Kernel panic - not syncing`` (when it stands on its own)
TRAP           invalid opcode, divide error, int3, alignment trap
DOUBLE_FAULT   double fault
STACK          stack overflow, stack guard page, corrupted stack
BAD_PAGE       bad page state / bad page map / bad rss-counter
SLAB           slab corruption (``BUG kmalloc-...``)
REBOOT         unexpected kernel reboot
NETDEV         unregister_netdevice waiting for a device
VFS            VFS inode / file use-after-free detectors
TOOL           failures of a fuzzer / user-space tool (SYZFAIL, Go panics)
OTHER          anything else that matched a report header
=============  ==============================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Regex helpers


_MACROS = {
    "<ADDR>": r"0x[0-9a-f]+",
    "<PC>": r"\[\<?(?:0x)?[0-9a-f]+\>?\]",
    "<FUNC>": r"([a-zA-Z0-9_]+)(?:\.|\+)",
    "<SRC>": r"([a-zA-Z0-9\-_/.]+\.[a-z]+:[0-9]+)",
}


def rx(pattern: str) -> re.Pattern[str]:
    """Compile *pattern* after expanding the ``<PC>``/``<FUNC>``/... macros."""
    for name, value in _MACROS.items():
        pattern = pattern.replace(name, value)
    return re.compile(pattern)


class _ParseStack:
    """Sentinel part of a :class:`Stack`: 'parse a stack trace here'."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "PARSE_STACK"


PARSE_STACK = _ParseStack()

# The line that holds the faulting instruction pointer, on x86 (RIP:),
# powerpc (NIP:), arm (pc : / PC is at).
RIP_FRAME = (
    r"(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:<PC> +){0,2}<FUNC>"
    r"|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?<PC> +\[< *\(null\)>\] +\(null\)"
    r"|[0-9]+: +\(null\))"
)
CALL_TRACE = r"(?:Call (?:T|t)race:)|(?:Backtrace:)"


@dataclass(frozen=True)
class Stack:
    """How to find the guilty frame(s) of a report.

    ``parts`` are applied in order to the report's lines: a regex part scans
    forward to its first matching line (and contributes a frame when it
    captures one); :data:`PARSE_STACK` collects frames from the following
    lines until a new stack trace starts.  ``parts2`` is tried when ``parts``
    finds no usable frame.  ``skip`` adds per-format frames to skip (regex,
    searched in the function name).  ``extractor`` names a special frame
    choice: ``"stall"`` (loops: pick the frame above a dispatch anchor such as
    a syscall entry) or ``"hang"`` (hung tasks: bucket synchronize_rcu /
    rtnl_lock waits, skip scheduler frames).
    """

    parts: tuple
    parts2: tuple = ()
    skip: tuple[str, ...] = ()
    extractor: str | None = None


@dataclass(frozen=True)
class Format:
    """One title format within a report class."""

    title: str
    fmt: str
    kind: str | None = None  # None: the class's kind
    report: str | None = None
    alt: tuple[str, ...] = ()
    stack: Stack | None = None
    no_stack_trace: bool = False
    corrupted: bool = False


@dataclass(frozen=True)
class ReportClass:
    """Reports that start with a line containing ``header``.

    ``formats`` are tried against the report text; the one whose title regex
    matches earliest wins (ties: table order).  ``continued_by`` lists header
    lines that the kernel prints in the course of such a report (a kCFI
    failure goes on with an Oops or a WARNING) and so do not start a new one.  ``ignore`` lists regexes that
    make a line containing the header *not* a report start.  ``free_text``:
    the header is words that firmware, boot loaders and programs print too
    (``WARNING:``); a header line is then a kernel report only with the shape
    of one of the formats (a title regex matches it), see :mod:`harness.detect.headers`.
    """

    header: str
    kind: str
    formats: tuple[Format, ...]
    ignore: tuple[str, ...] = ()
    free_text: bool = False
    continued_by: tuple[str, ...] = ()  # header lines that belong to a report of this class
    needs_evidence: bool = False  # a report only if evidence follows (a Go panic's goroutine dump)


def warning_stack(*skip: str) -> Stack:
    """WARNING splats: the frame is on the RIP line (new kernels trap to
    print the splat) or else the first frame of the call trace."""
    return Stack(
        parts=(rx("(?:" + RIP_FRAME + r"|--- interrupt: [0-9]+ at <FUNC>)"), PARSE_STACK),
        parts2=(rx(CALL_TRACE), PARSE_STACK),
        skip=skip,
    )


def _rip_then_trace(*skip: str, extractor: str | None = None) -> Stack:
    return Stack(parts=(rx(RIP_FRAME), rx(CALL_TRACE), PARSE_STACK), skip=skip, extractor=extractor)


def _trace(*skip: str, extractor: str | None = None) -> Stack:
    return Stack(parts=(rx(CALL_TRACE), PARSE_STACK), skip=skip, extractor=extractor)


# --------------------------------------------------------------------------
# Stack parsing parameters shared by all formats

# Lines that start a new stack trace (they end the one being parsed).
STACK_START = tuple(
    re.compile(p)
    for p in (
        r"Call (?:T|t)race",
        r"Allocated:",
        r"Allocated by task [0-9]+:",
        r"Freed:",
        r"Freed by task [0-9]+:",
        r"[^k] backtrace(?: \(crc [0-9a-fA-F]*\))?:",  # not "stack backtrace:"
        r"Backtrace:",
        r"Uninit was stored to memory at",
        r"status: [0-9a-f]{16} badaddr: [0-9a-f]{16} cause: [0-9a-f]{16}",  # riscv
    )
)

# A line holding one stack frame; captures the function name(s).
FRAME_RES = (
    rx(r"^ *(?:<PC> ){0,2}<FUNC>"),
    # arm: "[<c0123456>] (foo) from [<c0234567>] (bar+0x10/0x20)"
    rx(r"^ *<PC> \(([a-zA-Z0-9_.]+)\) from <PC> \(<FUNC>"),
)

# Lines showing the stack is polluted by fault injection: report corrupted.
CORRUPTED_LINES = (rx(r"^( \[\<?(?:0x)?[0-9a-f]+\>?\])? should_fail(slab)?(\.[a-z0-9.]+)?\+0x"),)

# Prefixes stripped from frame names (syscall wrappers differ per arch).
STRIP_FRAME_PREFIXES = (
    "SYSC_", "SyS_", "sys_", "__x64_", "__ia32_", "__arm64_", "____sys_", "___sys_",
    "__sys_", "__se_", "__se_sys_", "__do_sys_", "compat_SYSC_", "compat_SyS_", "ksys_",
)

# Generic helpers: never the guilty frame.  Searched (re.search) in names.
SKIP_FRAMES = (
    # sanitizers and report printing
    "__sanitizer", "__asan", "kasan", "hwasan", "__msan", "kmsan", "kcsan_setup_watchpoint",
    "check_memory_region", "check_heap_object", "check_object", "read_word_at_a_time",
    "(read|write)_once_.*nocheck", "print_address_description", "panic", "invalid_op",
    "report_bug", "fixup_bug", "print_report", "print_usage_bug", "do_error", r"_trap$|do_trap",
    "show_stack", "dump_stack", "walk_stack", "dump_backtrace", "warn_slowpath", "warn_alloc",
    "warn_bogus", "__warn", "print_tainted", "^get_taint$", "__fortify_report",
    "stack_trace_consume_entry", "arch_stack_walk", "stack_trace_save",
    # allocators
    "alloc_page", "k?v?(?:m|z|c)alloc", "krealloc", "kmem_cache", "allocate_slab",
    "__alloc_frozen_pages_noprof", "folio_(?:alloc|unlock)", "filemap_alloc_folio",
    "__filemap_get_folio", "find_or_create_page", "do_read_cache_folio", "read_cache_page",
    "pagecache_get_page", "grab_cache_page_write_begin", "slab_", "^kv?free$", "kfree_skb",
    "__phys_addr",
    # debug objects, locking primitives and lockdep
    "debug_object", "timer_is_static_object", "work_is_static_object", "__might_fault",
    "print_unlock", "imbalance_bug", "lockdep", "^_*print_(?:lock|held_locks|circular|deadlock|collision|bfs|usage)", "bh_enable", "bh_disable", "perf_trace",
    "lock_acquire", "lock_release", "lock_class", "mark_lock", "(reacquire|mark)_held_locks",
    "raw_spin_rq", "spin_lock", "spin_trylock", "spin_unlock", "read_lock", "read_trylock",
    "write_lock", "write_trylock", "read_unlock", "write_unlock", "^down$", "down_read",
    "down_write", "down_read_trylock", "down_write_trylock", "down_trylock", "up_read",
    "up_write", "^mutex_", "^__mutex_", "^rt_mutex_", "owner_on_cpu", "osq_lock", "osq_unlock",
    "(trace|lockdep)_(hard|soft)irq", "^(un)?lock_page",
    # atomics, bitops, refcounting, lists, trees
    "atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)",
    "(set|clear|change|test)_bit", "__wake_up", "^refcount_", "^kref_", "ref_tracker",
    "seqprop_assert", "list_add", "list_del", "list_replace", "list_move", "list_splice",
    "^rb_", "^__rb_", "^klist_", "xas_(?:start|load|find)", "rhashtable_lookup", "ida_free",
    # mem*/str*/usercopy/printing
    "memcpy", "memcmp", "memset", "memchr", "memmove", "memdup", "strcmp", "strncmp", "strcpy",
    "strlcpy", "strncpy", "strscpy", "strlen", "strstr", "strnstr", "strnlen", "strchr",
    "strdup", "strndup", "copy_to_user", "copy_from_user", "copy_to_iter", "copy_from_iter",
    "copy_page_to_iter", "copy_page_from_iter", "copy_folio_to_iter", "^copyin$", "^copyout$",
    "put_user", "get_user", "might_fault", "might_sleep", "__might_resched",
    "_indirect_thunk_", "string", "pointer", "snprintf", "scnprintf", "kasprintf",
    "kvasprintf", "printk", "va_format", "dev_info", "dev_notice", "dev_warn", "dev_err",
    "dev_alert", "dev_crit", "dev_emerg", "hex_dump_to_buffer", "print_hex_dump",
    "extract_(user|iter)_to_sg",
    # arch trap plumbing
    "program_check_exception", "program_check_common", "do_(kernel|translation)_fault",
    "do_mem_abort", "el1_abort", "el1h_64_sync(?:_handler)?",
    # timers, workqueues, completion, device/kobject teardown
    "del_timer", "lock_timer_base", "__timer_delete_sync", "sk_stop_timer_sync", "__mod_timer",
    "flush_work", "__cancel_work_timer", "cancel_work_sync", "try_to_grab_pending",
    "flush_workqueue", "drain_workqueue", "destroy_workqueue", "queue_work", "insert_work",
    "__queue_delayed_work", "queue_delayed_work_on", "finish_wait", "kthread_stop",
    "^complete$", "wait_for_completion", "kobject_", "add_uevent_var", "get_device_parent",
    "device_add", "device_del", "device_unregister", "device_destroy", "device_release",
    "devres_release_all", "^put_device$", "hwrng_unregister", "i2c_del_adapter",
    "__unregister_client", "device_for_each_child", "rollback_registered",
    "unregister_netdev", "sysfs_remove", "device_remove_file", "tty_unregister_device",
    "dummy_urb_enqueue", "usb_kill_urb", "usb_kill_anchored_urbs", "usb_control_msg",
    "usb_hcd_submit_urb", "usb_submit_urb",
    # MMIO accessors, crc, vfs refcounting helpers
    "readb$", "readw$", "readl$", "readq$", "writeb$", "writew$", "writel$", "writeq$",
    "logic_in", "logic_out", r"^crc\d+", "crc_itu_t", "assertfail", "^iput$", "^iput_final$",
    "^ihold$", "find_lock_entries", "truncate_inode_pages_range", "cleanup_srcu_struct",
    "drop_nlink", "fast_dput", "dput",
)

# Frames that dispatch work: for stalls the frame just above one of these is
# the representative one (see Stack.extractor == "stall").
STALL_ANCHORS = tuple(
    re.compile(p)
    for p in (
        "process_one_work", "do_syscall_", "do_fast_syscall_", "sysenter_dispatch",
        "tracesys_phase2", "el0_svc_handler", "invoke_syscall", "ret_fast_syscall",
        "netif_receive_skb", "do_softirq", "call_timer_fn", "_run_timers", "run_timer_softirq",
        "hrtimer_run", "run_ksoftirqd", "smpboot_thread_fn", "^kthread$", "start_secondary",
        "cpu_startup_entry", "ret_from_fork", "vfs_write", "vfs_read", "vfs_iter_read",
        "vfs_iter_write", "do_iter_read", "do_iter_write", "call_read_iter", "call_write_iter",
        "new_sync_read", "new_sync_write", "vfs_ioctl", "ksys_ioctl", "compat_ioctl",
        "compat_sys_ioctl", "blkdev_driver_ioctl", "blkdev_ioctl", "do_iter_readv_writev",
        "^call_mmap", "mmap_region", "do_mmap", "do_dentry_open", "vfs_open", "^sock_sendmsg",
        "^sock_recvmsg", "^sock_release", "^__sock_release", "^setsockopt$",
        "kernel_setsockopt", "sock_common_setsockopt", "^listen$", "kernel_listen",
        "sk_common_release", "^sock_mmap", "^accept$", "kernel_accept", "^sock_do_ioctl",
        "^sock_ioctl", "^compat_sock_ioctl", "^nfnetlink_rcv_msg", "^rtnetlink_rcv_msg",
        "^netlink_dump", "^(sys_)?(socketpair|connect|ioctl)", "__do_fault", "do_page_fault",
        "^page_fault$", "__fput", "task_work_run", "exit_to_usermode", "smp_call_function",
        "tasklet_action", "tasklet_hi_action",
    )
)

# Hung tasks: waits in these are bucketed together (value: replacement name).
HANG_ANCHORS = (
    ("rtnl_lock", ""),
    ("synchronize_rcu", "synchronize_rcu"),
    ("synchronize_srcu", "synchronize_rcu"),
    ("synchronize_net", "synchronize_rcu"),
    ("synchronize_sched", "synchronize_rcu"),
)
HANG_SKIP = (
    "sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait",
    "synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier",
)

# A title containing a console timestamp was cut by interleaved output.
CORRUPTED_TITLES = (re.compile(r"\[ *[0-9]+\.[0-9]+\]"),)

# Header lines that belong to the report already being collected (printed in
# its course) and so never start a new one while a report is open.
CONTINUATION_HEADERS = tuple(
    rx(p)
    for p in (
        r"invalid opcode: 0000",
        r"Kernel panic - not syncing",
        r"unregister_netdevice: waiting for",
        r"PANIC: double fault",
        r"Internal error:",
        r"Oops: [0-9a-f]{4} \[#",
        r"Oops: \w+: [0-9a-f]{4} \[#",
    )
)

# Messages that are not bugs but carry a stack trace.
INFO_WITH_STACK = ("vmalloc: allocation failure:", "FAULT_INJECTION: forcing a failure",
                   "FAULT_FLAG_ALLOW_RETRY missing")

# Lines printed just before a report's header that belong to the report.
PREAMBLE = re.compile(
    r"^(?:-+\[ cut here \]-+|=+|ODEBUG: |refcount_t: |list_(?:add|del) corruption|"
    r"DEBUG_LOCKS_WARN_ON|kernel BUG at|slab .* corruption|BUG: KFENCE|"
    r"rcu: )"
)

# Lines that end a report.
TERMINATOR = re.compile(r"---\[ end (?:trace|Kernel panic)")

# The first line of a log that starts at power-on: firmware and boot loader
# banners.  The x86 decompressor's "Booting the kernel." in such a log, before
# any kernel line, is its first boot, not an unexpected reboot.
BOOT_START = re.compile(
    r"^(?:SeaBIOS \(version|(?:\[[A-Z]+ *\] +)?coreboot-|U-Boot (?:SPL |TPL )?[0-9]{4}\.|"
    r"NOTICE: +(?:Booting Trusted Firmware|BL[0-9]+:)|BdsDxe:|UEFI firmware|EFI stub:|iPXE |"
    r"Starting depthcharge|OpenSBI v|GNU GRUB|Welcome to GRUB|early console in extract_kernel|"
    r"Decompressing Linux)"
)


# --------------------------------------------------------------------------
# The table

_KASAN_FRAME_SKIP = ("kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_")
_BAD_ACCESS = "bad-access in {1}"

REPORT_CLASSES: tuple[ReportClass, ...] = (
    ReportClass(
        header="BUG:",
        kind="BUG",
        formats=(
            Format(
                kind="KASAN",
                title=r"BUG: KASAN:",
                report=r"BUG: KASAN: ([a-z\-]+) in <FUNC>(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)",
                fmt="KASAN: {1} {3} in {4}",
                alt=("bad-access in {4}",),
                stack=Stack(parts=(rx(r"BUG: KASAN: (?:[a-z\-]+) in <FUNC>"), rx(CALL_TRACE), PARSE_STACK),
                            skip=_KASAN_FRAME_SKIP),
            ),
            Format(
                kind="KASAN",
                title=r"BUG: KASAN:",
                report=r"BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in <FUNC>",
                fmt="KASAN: invalid-free in {2}",
                alt=("invalid-free in {2}",),
                stack=Stack(parts=(rx(r"BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in <FUNC>"),
                                   rx(CALL_TRACE), PARSE_STACK),
                            skip=("slab_", "kfree", "vunmap", "vfree")),
            ),
            Format(kind="KASAN", title=r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)",
                   fmt="KASAN: {1} {2}"),
            Format(kind="KASAN", title=r"BUG: KASAN: (.*)", fmt="KASAN: {1}", corrupted=True),
            Format(
                kind="KMSAN",
                title=r"BUG: KMSAN: kernel-usb-infoleak",
                report=r"BUG: KMSAN: kernel-usb-infoleak in <FUNC>",
                fmt="KMSAN: kernel-usb-infoleak in {2}",
                alt=("KMSAN origin in {3}",),
                stack=Stack(parts=(PARSE_STACK, rx(r"(Local variable .* created at:|Uninit was created at:)"), PARSE_STACK),
                            skip=("alloc_skb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg",
                                  "usb_interrupt_msg", "usb_control_msg")),
                no_stack_trace=True,
            ),
            Format(
                kind="KMSAN",
                title=r"BUG: KMSAN:",
                report=r"BUG: KMSAN: ([a-z\-]+) in <FUNC>",
                fmt="KMSAN: {1} in {3}",
                alt=("bad-access in {3}",),
                stack=Stack(parts=(PARSE_STACK, rx(r"(Local variable .* created at:|Uninit was created at:)"), PARSE_STACK),
                            skip=("alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$",
                                  "^(?:crypto|cipher|drbg|rng)_")),
                no_stack_trace=True,
            ),
            Format(kind="KCSAN", title=r"BUG: KCSAN: data-race", report=r"BUG: KCSAN: (.*)", fmt="KCSAN: {1}",
                   no_stack_trace=True),
            Format(kind="KCSAN", title=r"BUG: KCSAN:", report=r"BUG: KCSAN: (.*)", fmt="KCSAN: {1}",
                   no_stack_trace=True),
            Format(
                kind="KFENCE",
                title=r"BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in <FUNC>",
                fmt="KFENCE: {1} {2} in {4}",
                alt=("bad-access in {4}",),
                no_stack_trace=True,  # its stack follows the header, with no "Call Trace:" line
                stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in <FUNC>"), PARSE_STACK)),
            ),
            Format(
                kind="KFENCE",
                title=r"BUG: KFENCE: invalid free in <FUNC>",
                fmt="KFENCE: invalid free in {2}",
                alt=("invalid-free in {2}",),
                no_stack_trace=True,
                stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in <FUNC>"), PARSE_STACK)),
            ),
            Format(
                kind="KFENCE",
                title=r"BUG: KFENCE: invalid (read|write) in <FUNC>",
                fmt="KFENCE: invalid {1} in {3}",
                alt=("bad-access in {3}",),
                no_stack_trace=True,
                stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in <FUNC>"), PARSE_STACK)),
            ),
            Format(
                kind="KFENCE",
                title=r"BUG: KFENCE: memory corruption in <FUNC>",
                fmt="KFENCE: memory corruption in {2}",
                no_stack_trace=True,
                stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in <FUNC>"), PARSE_STACK)),
            ),
            # x86 since 4.20 prints "unable to handle page fault for address";
            # we keep the kernel's own words in the title (syzbot spells this
            # one "kernel paging request"; that spelling is an alt title).
            Format(
                kind="PAGE_FAULT",
                title=r"BUG: unable to handle page fault for address",
                fmt="BUG: unable to handle page fault in {1}",
                alt=("BUG: unable to handle kernel paging request in {1}", _BAD_ACCESS),
                stack=_rip_then_trace(),
            ),
            Format(
                kind="PAGE_FAULT",
                title=r"BUG: (?:unable to handle kernel paging request|Unable to handle kernel data access)",
                fmt="BUG: unable to handle kernel paging request in {1}",
                alt=(_BAD_ACCESS,),
                stack=_rip_then_trace(),
            ),
            Format(
                kind="PAGE_FAULT",
                title=r"BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)",
                fmt="BUG: unable to handle kernel NULL pointer dereference in {1}",
                alt=(_BAD_ACCESS,),
                stack=_rip_then_trace(),
            ),
            Format(kind="PAGE_FAULT", title=r"BUG: (?:unable to handle kernel|Unable to handle kernel)",
                   fmt="BUG: unable to handle kernel", corrupted=True),
            Format(
                kind="LOCKDEP",
                title=r"BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)",
                fmt="BUG: {1} {2} in {3}",
                stack=_trace("spin_", "_lock", "_unlock"),
            ),
            Format(kind="HANG", title=r"BUG: soft lockup", fmt="BUG: soft lockup in {1}", alt=("stall in {1}",),
                   stack=_rip_then_trace(extractor="stall")),
            Format(kind="LOCKDEP", title=r"BUG: .*still has locks held!",
                   report=r"BUG: .*still has locks held!(?:.*\n)+?.*<PC> +<FUNC>", fmt="BUG: still has locks held in {1}"),
            Format(title=r"BUG: scheduling while atomic", fmt="BUG: scheduling while atomic in {1}",
                   stack=_trace("schedule")),
            Format(kind="LOCKDEP", title=r"BUG: lock held when returning to user space",
                   report=r"BUG: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:<PC> +)?<FUNC>",
                   fmt="BUG: lock held when returning to user space in {1}", no_stack_trace=True),
            Format(kind="LOCKDEP", title=r"BUG: bad unlock balance detected!", fmt="BUG: bad unlock balance in {1}",
                   stack=Stack(parts=(rx(r"<PC> +<FUNC>"), rx(CALL_TRACE), PARSE_STACK),
                               parts2=(rx(CALL_TRACE), PARSE_STACK))),
            Format(kind="LOCKDEP", title=r"BUG: held lock freed!", report=r"BUG: held lock freed!(?:.*\n)+?.*<PC> +<FUNC>",
                   fmt="BUG: held lock freed in {1}"),
            Format(kind="BAD_PAGE", title=r"BUG: Bad rss-counter state", fmt="BUG: Bad rss-counter state",
                   no_stack_trace=True),
            Format(kind="BAD_PAGE", title=r"BUG: non-zero nr_ptes on freeing mm", fmt="BUG: non-zero nr_ptes on freeing mm",
                   no_stack_trace=True),
            Format(kind="BAD_PAGE", title=r"BUG: non-zero nr_pmds on freeing mm", fmt="BUG: non-zero nr_pmds on freeing mm",
                   no_stack_trace=True),
            Format(kind="VFS", title=r"BUG: Dentry .* still in use",
                   report=r"BUG: Dentry .* still in use \([0-9]+\) \[(unmount) of ([^\]]+)\]",
                   fmt="BUG: Dentry still in use in {1}", alt=("BUG: Dentry still in use [{1} of {2}]",)),
            Format(
                kind="BAD_PAGE",
                title=r"BUG: Bad page (state|cache)",
                fmt="BUG: Bad page {1} in {2}",
                stack=Stack(parts=(rx(r"page last allocated"), PARSE_STACK),
                            skip=("(free|put|get|update|release)_page", "free_unref", "^_*folio",
                                  "truncate_inode_pages", "page_frag_free", "alloc", "vmap", "page_owner")),
            ),
            Format(kind="BAD_PAGE", title=r"BUG: Bad page map", fmt="BUG: Bad page map"),
            Format(kind="HANG", title=r"BUG: workqueue lockup", fmt="BUG: workqueue lockup", no_stack_trace=True),
            Format(title=r"BUG: sleeping function called from invalid context at (.*)",
                   fmt="BUG: sleeping function called from invalid context in {2}", stack=_trace()),
            Format(title=r"BUG: using ([a-z_]+)\(\) in preemptible",
                   fmt="BUG: using {1}() in preemptible code in {2}",
                   stack=_trace("dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu")),
            Format(title=r"BUG: workqueue leaked atomic, lock or RCU",
                   report=r"BUG: workqueue leaked atomic, lock or RCU(?:.*\n)+?.*workfn=([a-zA-Z0-9_]+)",
                   fmt="BUG: workqueue leaked lock or atomic in {1}", no_stack_trace=True),
            Format(title=r"BUG: workqueue leaked lock or atomic",
                   report=r"BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)\n",
                   fmt="BUG: workqueue leaked lock or atomic in {1}", no_stack_trace=True),
            Format(
                kind="KMEMLEAK",
                title=r"BUG: memory leak",
                fmt="memory leak in {1}",
                stack=Stack(parts=(rx(r"backtrace(?: \(crc [0-9a-fA-F]*\))?:"), PARSE_STACK),
                            skip=("kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get",
                                  "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup",
                                  "strndup", "memdup")),
            ),
            Format(kind="STACK", title=r"BUG: .*stack guard page was hit at", fmt="BUG: stack guard page was hit in {1}",
                   alt=("stack-overflow in {1}",), stack=_rip_then_trace(extractor="stall")),
            Format(kind="LOCKDEP", title=r"BUG: Invalid wait context", fmt="WARNING: locking bug in {1}",
                   stack=_trace("lock_sock", "release_sock")),
            Format(title=r"BUG:\s*(?:\n|$)", fmt="BUG: corrupted", corrupted=True),
        ),
        ignore=(r"ODEBUG:", r"Boot_DEBUG:", r"xlog_status:", r"DEBUG:", r"BUG: no syscalls can create resource"),
        free_text=True,
    ),
    ReportClass(
        header="WARNING:",
        kind="WARNING",
        formats=(
            Format(kind="ODEBUG", title=r"WARNING: (?:.*lib/debugobjects\.c.* (?:debug_print|debug_check|at)|CPU: [0-9]+ PID: [0-9]+ at (?:debug_print|debug_check))",
                   fmt="WARNING: ODEBUG bug in {1}",
                   stack=warning_stack("debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "vunmap",
                                       "vfree", "__free_", "debug_check", "kobject_")),
            Format(title=r"WARNING: (?:.*mm/usercopy\.c.* (?:usercopy_warn|at)|CPU: [0-9]+ PID: [0-9]+ at usercopy_)", fmt="WARNING: bad usercopy in {1}",
                   stack=warning_stack("usercopy", "__check")),
            Format(title=r"WARNING: (?:.*lib/kobject\.c.* (?:kobject_|at)|CPU: [0-9]+ PID: [0-9]+ at kobject_)", fmt="WARNING: kobject bug in {1}",
                   stack=warning_stack("kobject_")),
            Format(title=r"WARNING: .*fs/proc/generic\.c.* (?:proc_register|at)",
                   fmt="WARNING: proc registration bug in {1}", stack=warning_stack("proc_")),
            Format(kind="REFCOUNT", title=r"WARNING: (?:.*lib/refcount\.c.* (?:refcount_|at)|CPU: [0-9]+ PID: [0-9]+ at refcount_)",
                   fmt="WARNING: refcount bug in {1}", stack=warning_stack("refcount", "kobject_")),
            Format(kind="LOCKDEP", title=r"WARNING: .*kernel/locking/lockdep\.c.*lock_",
                   fmt="WARNING: locking bug in {1}", stack=warning_stack("lock_sock", "release_sock")),
            Format(kind="LOCKDEP", title=r"WARNING: .*still has locks held!",
                   report=r"WARNING: .*still has locks held!(?:.*\n)+?.*at: <FUNC>",
                   fmt="WARNING: still has locks held in {1}"),
            Format(kind="LOCKDEP", title=r"WARNING: Nested lock was not taken",
                   fmt="WARNING: nested lock was not taken in {1}", stack=warning_stack()),
            Format(kind="LOCKDEP", title=r"WARNING: lock held when returning to user space",
                   report=r"WARNING: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:<PC> +)?<FUNC>",
                   fmt="WARNING: lock held when returning to user space in {1}", no_stack_trace=True),
            Format(title=r"WARNING: .*mm/.*\.c.* k?.?malloc", fmt="WARNING: kmalloc bug in {1}",
                   stack=warning_stack("kmalloc", "krealloc", "slab", "kmem")),
            Format(title=r"WARNING: .*mm/vmalloc.c.*__vmalloc_node", fmt="WARNING: zero-size vmalloc in {1}",
                   stack=warning_stack()),
            Format(title=r"WARNING: .* usb_submit_urb", fmt="WARNING in {1}/usb_submit_urb",
                   stack=warning_stack("usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg",
                                       "usb_interrupt_msg", "usb_control_msg")),
            Format(kind="LIST", title=r"WARNING: (?:.*lib/list_debug\.c|CPU: [0-9]+ PID: [0-9]+ at __list_)", fmt="WARNING in {1}",
                   stack=warning_stack()),
            Format(title=r"WARNING: <SRC> at 0x\d+, CPU#\d+", fmt="WARNING in {2}", stack=warning_stack()),
            Format(title=r"WARNING: .* at <SRC> <FUNC>", fmt="WARNING in {3}", stack=warning_stack()),
            Format(title=r"WARNING: <SRC> at <FUNC>", fmt="WARNING in {3}", stack=warning_stack()),
            Format(title=r"WARNING: \[.*\] <SRC> at <FUNC>.*", fmt="WARNING in {3}", stack=warning_stack()),
            # No file: line (no CONFIG_DEBUG_BUGVERBOSE, or __warn() of a kCFI failure).
            Format(title=r"WARNING: CPU: [0-9]+ PID: [0-9]+ at <FUNC>", fmt="WARNING in {2}", stack=warning_stack()),
            Format(
                kind="LOCKDEP",
                title=r"WARNING: possible circular locking dependency detected",
                report=r"WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock",
                fmt="possible deadlock in {1}",
                stack=Stack(parts=(rx(r"at: (?:<PC> +)?<FUNC>"), rx(r"at: (?:<PC> +)?<FUNC>"), PARSE_STACK),
                            skip=("process_one_work", "flush_workqueue", "drain_workqueue", "destroy_workqueue")),
            ),
            Format(kind="LOCKDEP", title=r"WARNING: possible irq lock inversion dependency detected",
                   report=r"WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: (?:<PC> +)?<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"WARNING: .*-safe -> .*-unsafe lock order detected",
                   fmt="possible deadlock in {1}",
                   stack=Stack(parts=(rx(r"which became (?:.*) at:"), PARSE_STACK))),
            Format(kind="LOCKDEP", title=r"WARNING: possible recursive locking detected",
                   report=r"WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: (?:<PC> +)?<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"WARNING: inconsistent lock state",
                   report=r"WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: (?:<PC> +)?<FUNC>",
                   fmt="inconsistent lock state in {2}", stack=_trace()),
            Format(kind="LOCKDEP", title=r"WARNING: suspicious RCU usage",
                   report=r"WARNING: suspicious RCU usage(?:.*\n)+?.*?<SRC>",
                   fmt="WARNING: suspicious RCU usage in {2}", stack=_trace("rcu", "kmem", "slab")),
            Format(kind="STACK", title=r"WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value",
                   fmt="WARNING: kernel stack regs has bad '{1}' value", no_stack_trace=True),
            Format(kind="STACK", title=r"WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value",
                   fmt="WARNING: kernel stack frame pointer has bad value", no_stack_trace=True),
            # A fault while printing the lock's name cuts the report before
            # its "at:" line: the frame then comes from the fault's trace.
            Format(kind="LOCKDEP", title=r"WARNING: bad unlock balance detected!", fmt="WARNING: bad unlock balance in {1}",
                   stack=Stack(parts=(rx(r"<PC> +<FUNC>"), rx(CALL_TRACE), PARSE_STACK),
                               parts2=(rx(CALL_TRACE), PARSE_STACK))),
            Format(kind="LOCKDEP", title=r"WARNING: held lock freed!",
                   report=r"WARNING: held lock freed!(?:.*\n)+?.*at:(?: <PC>)? +<FUNC>",
                   fmt="WARNING: held lock freed in {1}"),
            Format(kind="STACK", title=r"WARNING: kernel stack regs .* has bad 'bp' value",
                   fmt="WARNING: kernel stack regs has bad value", no_stack_trace=True),
            Format(kind="STACK", title=r"WARNING: kernel stack frame pointer .* has bad value",
                   fmt="WARNING: kernel stack regs has bad value", no_stack_trace=True),
            Format(title=r"WARNING:\s*(?:\n|$)", fmt="WARNING: corrupted", corrupted=True),
        ),
        ignore=(
            r"WARNING: /etc/ssh/moduli does not exist, using fixed modulus",
            r"WARNING: workqueue cpumask: online intersect > possible intersect",
            r"WARNING: [Tt]he mand mount option",
            r"WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1",
            r"WARNING: Unprivileged eBPF is enabled",
            r"WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size",
            r"WARNING: See https.* for mitigation options.",
            r"WARNING: kernel not compiled with CPU_SRSO",
            # CPU vulnerability notes printed at boot ("RETBleed: WARNING: ...")
            r"WARNING: .*(?:Spectre|RETBleed|mitigation|vulnerable|data leaks possible)",
            r"EXT4-[Ff][Ss](?: \(.*\))?:",
            r"(?i)warning: .* uses (deprecated v2 capabilities|wireless extensions)",
            r"XFS \(\w+\): WARNING",
        ),
        free_text=True,
    ),
    ReportClass(
        header="INFO:",
        kind="BUG",
        formats=(
            Format(kind="LOCKDEP", title=r"INFO: possible circular locking dependency detected",
                   report=r"INFO: possible circular locking dependency detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: <PC> +<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"INFO: possible irq lock inversion dependency detected",
                   report=r"INFO: possible irq lock inversion dependency detected \](?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: <PC> +<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected",
                   report=r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \](?:.*\n)+?.*is trying to acquire(?:.*\n)+?.*at: <PC> +<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"INFO: possible recursive locking detected",
                   report=r"INFO: possible recursive locking detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: <PC> +<FUNC>",
                   fmt="possible deadlock in {1}"),
            Format(kind="LOCKDEP", title=r"INFO: inconsistent lock state",
                   report=r"INFO: inconsistent lock state \](?:.*\n)+?.*takes(?:.*\n)+?.*at: <PC> +<FUNC>",
                   fmt="inconsistent lock state in {1}"),
            Format(
                kind="RCU_STALL",
                title=r"INFO: rcu_(?:preempt|sched|bh) (?:self-)?detected(?: expedited)? stall",
                fmt="INFO: rcu detected stall in {1}",
                alt=("stall in {1}",),
                stack=Stack(parts=(rx(r"apic_timer_interrupt"), rx(RIP_FRAME), PARSE_STACK),
                            parts2=(rx(r"(?:apic_timer_interrupt|Exception stack|el1h_64_irq)"), PARSE_STACK),
                            skip=("apic_timer_interrupt", "rcu"), extractor="stall"),
            ),
            Format(kind="RCU_STALL", title=r"INFO: rcu_tasks(?:_trace|_rude)? detected stalls",
                   fmt="INFO: rcu_tasks detected stalls", no_stack_trace=True),
            Format(kind="LOCKDEP", title=r"INFO: trying to register non-static key",
                   fmt="INFO: trying to register non-static key in {1}", stack=_trace("stack", "lock", "IRQ")),
            Format(kind="LOCKDEP", title=r"INFO: suspicious RCU usage",
                   report=r"INFO: suspicious RCU usage(?:.*\n)+?.*?<SRC>",
                   fmt="INFO: suspicious RCU usage in {2}", stack=_trace("rcu", "kmem", "slab")),
            Format(kind="HANG", title=r"INFO: task .* blocked for more than [0-9]+ seconds",
                   fmt="INFO: task hung in {1}", alt=("hang in {1}",), stack=_trace(extractor="hang")),
            Format(kind="HANG", title=r"INFO: task .* can't die for more than .* seconds",
                   fmt="INFO: task can't die in {1}", alt=("hang in {1}",), stack=_trace("schedule")),
            Format(kind="KASAN", title=r"INFO: (Freed|Allocated) in (.*)", fmt="INFO: {1} in {2}", corrupted=True),
            Format(title=r"INFO:\s*(?:\n|$)", fmt="INFO: corrupted", corrupted=True),
        ),
        ignore=(
            r"INFO: lockdep is turned off", r"INFO: Stall ended before state dump start", r"INFO: NMI handler",
            r"INFO: recovery required on readonly filesystem", r"(handler|interrupt).*took too long",
            r"INFO: sys_.* is not present in /proc/kallsyms", r"INFO: no syscalls can create resource",
            r"rmt_storage:INFO:", r"_INFO:",
        ),
        free_text=True,
    ),
    ReportClass(
        header="Unable to handle kernel",
        kind="PAGE_FAULT",
        formats=(
            Format(title=r"Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)",
                   fmt="BUG: unable to handle kernel {1} in {2}", alt=("bad-access in {2}",), stack=_rip_then_trace()),
        ),
    ),
    ReportClass(
        header="general protection fault",
        kind="GPF",
        formats=(
            Format(title=r"general protection fault.*:", fmt="general protection fault in {1}",
                   alt=(_BAD_ACCESS,), stack=_rip_then_trace()),
        ),
        ignore=(r"general protection fault .* error:\d+ in ",),  # user-space segfault note
    ),
    ReportClass(
        header="stack segment: ",
        kind="GPF",
        formats=(Format(title=r"stack segment: ", fmt="stack segment fault in {1}", stack=_rip_then_trace()),),
    ),
    ReportClass(
        header="Kernel panic",
        kind="PANIC",
        formats=(
            Format(kind="STACK", title=r"Kernel panic - not syncing: stack-protector:",
                   report=r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: <FUNC>",
                   fmt="kernel panic: stack is corrupted in {1}", no_stack_trace=True),
            Format(kind="STACK", title=r"Kernel panic - not syncing: stack-protector:",
                   report=r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+",
                   fmt="kernel panic: stack is corrupted in {1}", stack=_trace("stack_chk")),
            Format(kind="STACK", title=r"Kernel panic - not syncing: corrupted stack end",
                   report=r"Kernel panic - not syncing: corrupted stack end detected inside scheduler",
                   fmt="kernel panic: corrupted stack end in {1}", alt=("stack-overflow in {1}",),
                   stack=_trace("schedule", "retint_kernel", extractor="stall")),
            Format(kind="STACK", title=r"Kernel panic - not syncing: kernel stack overflow",
                   fmt="kernel stack overflow in {1}", alt=("stack-overflow in {1}",),
                   stack=_trace("bad_stack", extractor="stall")),
            Format(title=r"Kernel panic - not syncing: Attempted to kill init!", fmt="kernel panic: Attempted to kill init!"),
            Format(title=r"Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+",
                   fmt="kernel panic: Couldn't open N_TTY ldisc"),
            # These follow another report; standing alone they mean its head was lost.
            Format(title=r"Kernel panic - not syncing: Fatal exception", fmt="kernel panic: Fatal exception", corrupted=True),
            Format(title=r"Kernel panic - not syncing: panic_on_warn set", fmt="kernel panic: panic_on_warn set",
                   corrupted=True),
            Format(kind="HANG", title=r"Kernel panic - not syncing: hung_task: blocked tasks",
                   fmt="kernel panic: hung_task: blocked tasks", corrupted=True),
            Format(title=r"Kernel panic - not syncing: (.*)", fmt="kernel panic: {1}"),
        ),
    ),
    ReportClass(
        header="PANIC: double fault",
        kind="DOUBLE_FAULT",
        formats=(Format(title=r"PANIC: double fault", fmt="PANIC: double fault in {1}",
                        stack=Stack(parts=(rx(RIP_FRAME),))),),
    ),
    ReportClass(
        header="rust_kernel: panicked",
        kind="PANIC",
        formats=(Format(title=r"rust_kernel: panicked", report=r"rust_kernel: panicked at [^\n]*?\n(.+?)\n",
                        fmt="{1} in {2}",
                        stack=Stack(parts=(rx(CALL_TRACE), PARSE_STACK), skip=("rust_begin_unwind",))),),
    ),
    ReportClass(
        header="kernel BUG",
        kind="BUG",
        formats=(
            Format(title=r"kernel BUG at mm/usercopy.c", fmt="BUG: bad usercopy in {1}", stack=_trace("usercopy", "__check")),
            Format(kind="LIST", title=r"kernel BUG at lib/list_debug.c", fmt="BUG: corrupted list in {1}",
                   alt=(_BAD_ACCESS,), stack=_trace()),
            Format(title=r"kernel BUG at (.*)", fmt="kernel BUG in {2}", stack=_rip_then_trace("^skb_")),
        ),
    ),
    ReportClass(header="Kernel BUG", kind="BUG", formats=(Format(title=r"Kernel BUG (.*)", fmt="kernel BUG {1}"),)),
    ReportClass(
        header="BUG kmalloc-",
        kind="SLAB",
        formats=(Format(title=r"BUG kmalloc-.*: Object already free", fmt="BUG: Object already free"),),
    ),
    ReportClass(header="divide error:", kind="TRAP",
                formats=(Format(title=r"divide error: ", fmt="divide error in {1}", stack=Stack(parts=(rx(RIP_FRAME),))),)),
    ReportClass(header="divide_error:", kind="TRAP",
                formats=(Format(title=r"divide_error: ", fmt="divide error in {1}", stack=Stack(parts=(rx(RIP_FRAME),))),)),
    ReportClass(header="invalid opcode:", kind="TRAP",
                formats=(Format(title=r"invalid opcode: ", fmt="invalid opcode in {1}", stack=Stack(parts=(rx(RIP_FRAME),))),)),
    ReportClass(header="Oops: int3:", kind="TRAP",
                formats=(Format(title=r"int3: ", fmt="int3 in {1}", stack=_rip_then_trace()),)),
    ReportClass(
        header="UBSAN:",
        kind="UBSAN",
        formats=(
            Format(title=r"UBSAN:", report=r"UBSAN: Undefined behaviour in", fmt="UBSAN: undefined-behaviour in {1}",
                   stack=_trace("ubsan", "overflow")),
            Format(title=r"UBSAN: array-index-out-of-bounds in", fmt="UBSAN: array-index-out-of-bounds in {1}",
                   alt=(_BAD_ACCESS,), stack=_trace("ubsan", "overflow")),
            # CONFIG_UBSAN_TRAP: x86 prints "UBSAN: <reason> at <func>", arm64 dies
            # with "Internal error: UBSAN: <reason>: <esr> [#1]".
            Format(title=r"UBSAN: ([a-z/ ]+) at <FUNC>", fmt="UBSAN: {1} in {3}",
                   stack=Stack(parts=(rx(r"UBSAN: [a-z/ ]+ at <FUNC>"), rx(CALL_TRACE), PARSE_STACK),
                               skip=("ubsan", "overflow"))),
            Format(title=r"Internal error: UBSAN: ([a-z/ ]+): [0-9a-f]+ \[#", fmt="UBSAN: {1} in {2}",
                   stack=_rip_then_trace("ubsan", "overflow")),
            Format(title=r"UBSAN:", report=r"UBSAN: (.*?) in \S+:[0-9]+", fmt="UBSAN: {1} in {2}",
                   stack=_trace("ubsan", "overflow")),
        ),
    ),
    ReportClass(
        header="Booting the kernel",
        kind="REBOOT",
        formats=(Format(title=r"^Booting the kernel", fmt="unexpected kernel reboot", no_stack_trace=True),),
        ignore=(r"Parsing ELF|Decompressing Linux|Unknown parameter '",),
    ),
    ReportClass(
        header="unregister_netdevice: waiting for",
        kind="NETDEV",
        formats=(Format(title=r"unregister_netdevice: waiting for (?:.*) to become free",
                        fmt="unregister_netdevice: waiting for DEV to become free", no_stack_trace=True),),
    ),
    ReportClass(header="VFS: Close: file count is 0", kind="VFS",
                formats=(Format(title=r"VFS: Close: file count is 0", fmt="VFS: Close: file count is zero (use-after-free)",
                                no_stack_trace=True),)),
    ReportClass(header="VFS: Busy inodes after unmount", kind="VFS",
                formats=(Format(title=r"VFS: Busy inodes after unmount", fmt="VFS: Busy inodes after unmount (use-after-free)",
                                no_stack_trace=True),)),
    ReportClass(header="Internal error:", kind="PAGE_FAULT",
                formats=(Format(title=r"Internal error:", fmt="Internal error in {1}", alt=(_BAD_ACCESS,),
                                stack=_rip_then_trace()),)),
    ReportClass(header="Unhandled fault:", kind="PAGE_FAULT",
                formats=(Format(title=r"Unhandled fault:", fmt="Unhandled fault in {1}", alt=(_BAD_ACCESS,),
                                stack=_rip_then_trace()),)),
    ReportClass(header="Alignment trap:", kind="TRAP",
                formats=(Format(title=r"Alignment trap:", fmt="Alignment trap in {1}", stack=_rip_then_trace()),)),
    ReportClass(
        header="trusty: panic",
        kind="PANIC",
        formats=(
            Format(title=r"trusty: panic.* ASSERT FAILED", report=r"trusty: panic \(.*?\):(?: DEBUG)? ASSERT FAILED at \(.*?\): (.+)",
                   fmt="trusty: ASSERT FAILED: {1}", no_stack_trace=True),
            Format(title=r"trusty: panic.* ASSERT FAILED.*: *(.*)", fmt="trusty: ASSERT FAILED: {1}", corrupted=True),
            Format(title=r"trusty: panic", report=r"trusty: panic \(.*?\): (.+)", fmt="trusty: panic: {1}",
                   no_stack_trace=True),
        ),
    ),
    # kCFI (CONFIG_CFI_CLANG): "CFI failure at caller+0x../0x.. (target: ...)", then an
    # Oops (x86: invalid opcode; arm64: "Internal error: Oops - CFI") or, with
    # CONFIG_CFI_PERMISSIVE, a WARNING at the caller; older kernels: "CFI failure (target: ...)".
    ReportClass(
        header="CFI failure ",
        kind="CFI",
        formats=(
            Format(title=r"CFI failure at <FUNC>", fmt="CFI failure in {2}",
                   stack=Stack(parts=(rx(r"CFI failure at <FUNC>"), rx(CALL_TRACE), PARSE_STACK))),
            Format(title=r"CFI failure \(target: ", fmt="CFI failure in {1}",
                   stack=Stack(parts=(rx(CALL_TRACE), PARSE_STACK), skip=("cfi", "__ubsan_handle_cfi"))),
        ),
        continued_by=(r"WARNING: CPU: [0-9]+ PID: [0-9]+ at", r"Internal error: Oops - CFI", r"invalid opcode:"),
    ),
    ReportClass(
        header="Watchdog detected hard LOCKUP on cpu",
        kind="HANG",
        formats=(Format(title=r"Watchdog detected hard LOCKUP on cpu", fmt="hard LOCKUP in {1}", alt=("stall in {1}",),
                        stack=_rip_then_trace(extractor="stall")),),
    ),
    # kmemleak's own report format (cat /sys/kernel/debug/kmemleak to the console).
    ReportClass(
        header="unreferenced object 0x",
        kind="KMEMLEAK",
        formats=(
            Format(title=r"unreferenced object 0x", fmt="memory leak in {1}",
                   stack=Stack(parts=(rx(r"backtrace(?: \(crc [0-9a-fA-F]*\))?:"), PARSE_STACK),
                               skip=("kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get",
                                     "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup",
                                     "strndup", "memdup"))),
        ),
    ),
    # A bare "Oops: 0000 [#1]" whose header line (BUG: ...) was lost.
    ReportClass(
        header="Oops: ",
        kind="BUG",
        formats=(Format(title=r"Oops: [0-9a-f]{4} \[#", fmt="Oops in {1}", stack=_rip_then_trace()),),
        ignore=(r"^(?!.*Oops: (?:[0-9a-f]{4}|\w+: [0-9a-f]{4}) \[#)",),
    ),
    # Go runtime and fuzzer tooling failures (seen in fuzzing consoles): only with
    # the Go runtime's dump after them (any program may print "panic: ...").
    ReportClass(header="fatal error:", kind="TOOL",
                formats=(Format(title=r"^fatal error:", fmt="go runtime error", no_stack_trace=True),),
                ignore=(r"ALSA", r"fatal error: cannot create timer"), free_text=True, needs_evidence=True),
    ReportClass(header="SYZFAIL:", kind="TOOL",
                formats=(Format(title=r"SYZFAIL:(.*)", fmt="SYZFAIL:{1}", no_stack_trace=True),)),
    ReportClass(header="SYZFATAL:", kind="TOOL",
                formats=(Format(title=r"SYZFATAL:(.*)()", fmt="SYZFATAL:{1}", alt=("SYZFATAL{2}",), no_stack_trace=True),)),
    ReportClass(
        header="panic:",
        kind="TOOL",
        formats=(
            Format(title=r"^panic: Sentry detected .* stuck task", fmt="panic: Sentry detected stuck tasks", no_stack_trace=True),
            Format(title=r"^panic:(.*)", fmt="panic:{1}", no_stack_trace=True),
        ),
        ignore=(r"_panic:", r"xlog_status:", r"ddb\.onpanic:", r"evtlog_status:"),
        free_text=True,
        needs_evidence=True,
    ),
)

# Kind refinements by title, for reports whose class is generic.
KIND_BY_TITLE = (
    (re.compile(r"^(?:WARNING: refcount bug|refcount_t)"), "REFCOUNT"),
    (re.compile(r"corrupted list|list_(?:add|del) corruption"), "LIST"),
)


@dataclass
class CompiledClass:
    """A :class:`ReportClass` with its regexes compiled (built once)."""

    spec: ReportClass
    formats: list = field(default_factory=list)  # (Format, title_re, report_re)
    ignore: list = field(default_factory=list)
    continued_by: list = field(default_factory=list)


def compile_table() -> list[CompiledClass]:
    out = []
    for cls in REPORT_CLASSES:
        cc = CompiledClass(spec=cls, ignore=[re.compile(p) for p in cls.ignore],
                           continued_by=[rx(p) for p in cls.continued_by])
        for f in cls.formats:
            cc.formats.append((f, rx(f.title), rx(f.report) if f.report else None))
        out.append(cc)
    return out
