"""Issue 17, point 5: module attribution and frames of reports from our own
dma-fence unload logs (real console logs of baseline guests, recorded with
`harness run -k vgem` and the extern-heap query scenarios).

A lockdep or KASAN report prints no "Modules linked in:" line of its own; the
oops that follows it in the same task does, and its `[last unloaded: X]`
must be recorded on both.  A fault while lockdep prints the lock's name cuts
the lockdep report short: its frame comes from the fault's trace, where lock
internals, printk/string code and lockdep printing are skipped frames.
"""

from __future__ import annotations

from pathlib import Path

from harness.detect import scan_file, scan_text

REAL = Path(__file__).parent / "fixtures" / "scan" / "real"


def test_vgem_lockdep_cut_by_fault_while_printing_lock_name():
    reps = scan_file(REAL / "vgem_info_after_unload.log")
    assert [(r.kind, r.title) for r in reps] == [
        ("LOCKDEP", "WARNING: bad unlock balance in dma_fence_get_status"),
        ("PAGE_FAULT", "BUG: unable to handle page fault in dma_fence_get_status"),
        ("PAGE_FAULT", "BUG: unable to handle page fault in dma_fence_release"),
    ]
    lockdep = reps[0]
    assert lockdep.last_unloaded == "vgem"
    assert lockdep.modules_linked == ["drm_shmem_helper"]
    assert lockdep.frame == "dma_fence_get_status"
    assert not lockdep.corrupted
    assert lockdep.step == "info"
    # its own text stops where the fault's report starts
    assert lockdep.text.splitlines()[-1].endswith("is trying to release lock (")
    assert all(r.last_unloaded == "vgem" for r in reps)


def test_kasan_use_after_free_records_last_unloaded():
    for name, second in (("kasan_status_extern_heap.log",
                          "BUG: unable to handle page fault in dma_fence_get_status"),
                         ("kasan_wait_extern_heap.log",
                          "general protection fault in dma_fence_enable_sw_signaling")):
        reps = scan_file(REAL / name)
        assert [r.kind for r in reps] == ["KASAN", "PAGE_FAULT" if "page fault" in second else "GPF"], name
        kasan = reps[0]
        assert kasan.title.startswith("KASAN: slab-use-after-free Read in dma_fence_"), kasan.title
        assert "Modules linked in" not in kasan.text  # KASAN prints none itself
        assert kasan.last_unloaded == "fence_issuer", name
        assert kasan.modules_linked == ["fence_holder"], name
        assert reps[1].title == second
        assert reps[1].last_unloaded == "fence_issuer"


def test_vgem_close_page_fault():
    reps = scan_file(REAL / "vgem_close_after_unload.log")
    assert [r.title for r in reps] == ["BUG: unable to handle page fault in dma_fence_release"]
    assert reps[0].last_unloaded == "vgem"


def test_own_modules_line_wins_and_unrelated_reports_do_not_lend():
    """A report with its own "Modules linked in:" keeps it; a report closed
    (trace printed, "end trace") before the next one began lends nothing."""
    text = (REAL / "kasan_status_extern_heap.log").read_text()
    own = text.replace("Disabling lock debugging due to kernel taint",
                       "Modules linked in: other_mod [last unloaded: other_old]", 1)
    reps = scan_text(own)
    assert reps[0].last_unloaded == "other_old"
    assert reps[0].modules_linked == ["other_mod"]
    # a step marker between them ends the KASAN report: no successor
    split = text.replace("Disabling lock debugging due to kernel taint",
                         "HARNESS-STEP: next", 1)
    reps = scan_text(split)
    assert reps[0].kind == "KASAN" and reps[0].last_unloaded is None


def test_console_report_with_trace_is_not_read_past():
    """Without caller ids, a report that already printed its trace is closed
    by the next header (it may come from another CPU): its title is its own."""
    reps = scan_file(REAL / "kasan_status_extern_heap.log")
    assert reps[0].frame == "dma_fence_get_status"
    assert reps[0].end_line < reps[1].start_line
