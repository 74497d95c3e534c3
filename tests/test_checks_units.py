"""Unit tests of the per-patch checks on recorded tool output (no build, no tree).

Fixtures in tests/fixtures/checks/: checkpatch-bad.{patch,txt} is a real
run of 6.12's scripts/checkpatch.pl --strict --show-types on a deliberately
badly styled patch; the *.log files are real kbuild logs (W=1, sparse with
-fdiagnostic-prefix, a failed build) recorded by the checks themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import checkpatch, diag
from harness.checks.compare import added_lines, key, mark_new, normalise
from harness.checks.funcs import FunctionIndex, definitions
from harness.model.checks import (CheckName, CheckResult, Finding, PatchChecks, SeriesChecks, Severity,
                                  Status, Unchecked)
from harness.checks.objects import BuildIndex, choose_includers, not_built_reason, plan
from harness.core.errors import InputError

FIX = Path(__file__).resolve().parent / "fixtures" / "checks"


# -- checkpatch ----------------------------------------------------------------

def test_checkpatch_output_parses_with_types_and_places():
    findings, totals = checkpatch.parse((FIX / "checkpatch-bad.txt").read_text())
    assert (totals.errors, totals.warnings, totals.checks) == (7, 7, 1)
    by_type = {}
    for f in findings:
        by_type.setdefault(f.kind, []).append(f)
    brace = by_type["OPEN_BRACE"][0]
    assert (brace.severity, brace.file, brace.line) == (Severity.ERROR, "drivers/dma-buf/sw_sync.c", 94)
    assert brace.message == "open brace '{' following function definitions go on the next line"
    assert len(by_type["SPACING"]) == 4
    # commit-message findings have no file; a message-level finding has no place at all
    assert by_type["COMMIT_LOG_LONG_LINE"][0].file is None
    assert by_type["MISSING_SIGN_OFF"][0].file is None and by_type["MISSING_SIGN_OFF"][0].line is None
    assert by_type["COMPARISON_TO_NULL"][0].severity is Severity.CHECK
    assert all(f.check is CheckName.CHECKPATCH and f.new for f in findings)


def test_checkpatch_verdict_fails_on_errors_and_warnings_not_on_checks():
    res = checkpatch.result_from_output((FIX / "checkpatch-bad.txt").read_text(), 1)
    assert res.status is Status.FAILED and res.reason == "7 errors, 7 warnings, 1 checks"
    only_check = ("CHECK:COMPARISON_TO_NULL: Comparison to NULL could be written \"!fence\"\n"
                  "#22: FILE: drivers/dma-buf/sw_sync.c:96:\n+\tif (fence == NULL)\n\n"
                  "total: 0 errors, 0 warnings, 1 checks, 14 lines checked\n")
    res = checkpatch.result_from_output(only_check, 0)
    assert res.status is Status.PASSED and len(res.findings) == 1


def test_checkpatch_output_that_does_not_add_up_is_not_a_pass():
    # a format this parser misses (here: a block without its level line) must not look clean
    broken = "total: 1 errors, 0 warnings, 0 checks, 3 lines checked\n"
    res = checkpatch.result_from_output(broken, 1)
    assert res.status is Status.NOT_RUN and "parsed 0/0/0" in res.reason
    res = checkpatch.result_from_output("Can't locate Foo.pm in @INC\n", 2, "Can't locate Foo.pm in @INC")
    assert res.status is Status.NOT_RUN and "Foo.pm" in res.reason


def test_tree_without_checkpatch_says_so(tmp_path):
    patch = FIX / "series-sparse" / "0001-dma-buf-sw_sync-add-dma_fence_is_sync_pt.patch"
    res = checkpatch.check_patch(tmp_path, patch)
    assert res.status is Status.NOT_RUN
    assert res.reason == "the tree has no scripts/checkpatch.pl: checkpatch cannot run"


# -- enclosing functions ---------------------------------------------------------

SOURCE = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/dma-fence.h>
#define TWO_LINES(x) { \\
	x; }

static const struct dma_fence_ops foo_ops = {
	.get_driver_name = "{",
};

/* a comment with a { brace */
static int __init
foo(struct dma_fence *fence) __must_hold(&fence->lock)
{
	if (fence) {
		return 1;
	}
	return 0;
}
EXPORT_SYMBOL(foo);

struct bar {
	int x;
};

__printf(1, 2) void baz(const char *f, ...)
{
	char c = '}';
}
"""


def test_definitions_name_functions_initialisers_and_types():
    defs = [(d.name, d.start, d.end) for d in definitions(SOURCE)]
    assert defs == [("foo_ops", 6, 8), ("foo", 11, 18), ("struct bar", 21, 23), ("baz", 25, 28)]
    idx = FunctionIndex(SOURCE)
    assert idx.at(15) == "foo" and idx.at(12) == "foo"        # the head belongs to the function
    assert idx.at(7) == "foo_ops" and idx.at(27) == "baz"
    assert idx.at(19) is None and idx.at(2) is None


def test_definitions_of_the_real_sw_sync():
    text = (FIX / "sw_sync-rcu-ops.c").read_text()
    idx = FunctionIndex(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "rcu_access_pointer(fence->ops)" in l)
    assert idx.at(line) == "dma_fence_to_sync_pt"
    names = [d.name for d in definitions(text)]
    assert "timeline_fence_ops" in names and "sw_sync_ioctl" in names and "sw_sync_debugfs_fops" in names


# -- old vs new --------------------------------------------------------------------

def _f(file, line, msg, func="f", check=CheckName.SPARSE):
    return Finding(check=check, file=file, line=line, message=msg, function=func)


def test_matching_ignores_lines_and_numbers_but_not_quoted_names():
    assert normalise("frame size of 1104 bytes is larger than 1024 bytes") == \
        normalise("frame size of  1096 bytes is larger than 1024 bytes")
    assert normalise("symbol 'foo1' was not declared") != normalise("symbol 'foo2' was not declared")
    old = [_f("a.c", 10, "incompatible types in comparison expression (different address spaces)")]
    shifted = [_f("a.c", 25, "incompatible types in comparison expression (different address spaces)")]
    marked, fixed = mark_new(shifted, old)
    assert [f.new for f in marked] == [False] and fixed == []
    # same message in another function is new
    marked, fixed = mark_new([_f("a.c", 25, old[0].message, func="g")], old)
    assert [f.new for f in marked] == [True] and [f.function for f in fixed] == ["f"]


def test_a_third_copy_is_new_and_lands_on_the_added_line():
    msg = "cast removes address space '__rcu' of expression"
    old = [_f("a.c", 10, msg), _f("a.c", 20, msg)]
    cur = [_f("a.c", 12, msg), _f("a.c", 14, msg), _f("a.c", 22, msg)]
    marked, _ = mark_new(cur, old, {"a.c": {14}})
    assert [(f.line, f.new) for f in marked] == [(12, False), (14, True), (22, False)]


def test_added_lines_from_a_real_patch():
    patch = (FIX / "series-sparse" / "0002-dma-buf-sw_sync-compare-the-fence-ops-directly.patch").read_text()
    assert added_lines(patch) == {"drivers/dma-buf/sw_sync.c": {87, 91}}


def test_key_covers_check_file_function_message():
    a = _f("a.c", 1, "x")
    assert key(a) != key(_f("b.c", 1, "x")) and key(a) != key(_f("a.c", 1, "x", check=CheckName.WARNINGS))


# -- model -------------------------------------------------------------------------

def test_check_names_parse_and_reject_unknown():
    assert CheckName.parse(["sparse", "build"]) == (CheckName.BUILD, CheckName.SPARSE)
    with pytest.raises(InputError, match="unknown check 'runtime'"):
        CheckName.parse(["runtime"])


def test_series_round_trips_through_json():
    f = _f("a.c", 3, "msg\nexpected x\ngot y")
    r = CheckResult(CheckName.SPARSE, Status.PARTIAL, reason="r", findings=[f],
                    unchecked=[Unchecked("b.c", "not built in this config (CONFIG_X is not set)")])
    s = SeriesChecks("abc", "debug", (CheckName.SPARSE,),
                     patches=[PatchChecks(1, "p.patch", "subj", "def", ["a.c"], {CheckName.SPARSE: r})])
    again = SeriesChecks.from_json(s.to_json())
    assert again.to_json() == s.to_json()
    assert again.patches[0].result("sparse").findings[0] == f
    assert f.render().startswith(">> a.c:3: warning: msg (in f)\n      expected x")


# -- objects -------------------------------------------------------------------------

def test_build_index_from_cmd_files(tmp_path):
    src = tmp_path / "src"
    obj = tmp_path / "obj"
    (obj / "drivers/dma-buf").mkdir(parents=True)
    (obj / "drivers/gpu/drm/amd/amdkfd").mkdir(parents=True)
    (obj / "drivers/dma-buf/.sw_sync.o.cmd").write_text(
        f"savedcmd_drivers/dma-buf/sw_sync.o := gcc ...\n\n"
        f"source_drivers/dma-buf/sw_sync.o := {src}/drivers/dma-buf/sw_sync.c\n\n"
        f"deps_drivers/dma-buf/sw_sync.o := \\\n    $(wildcard include/config/X) \\\n"
        f"  {src}/include/linux/dma-fence.h \\\n  include/generated/autoconf.h \\\n\n"
        f"drivers/dma-buf/sw_sync.o: $(deps_drivers/dma-buf/sw_sync.o)\n")
    (obj / "drivers/gpu/drm/amd/amdkfd/.kfd_svm.o.cmd").write_text(
        f"savedcmd_drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.o := gcc\n"
        f"source_drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.o := "
        f"{src}/drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.c\n"
        f"deps_drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.o := \\\n  {src}/include/linux/dma-fence.h \\\n\n")
    idx = BuildIndex.scan(obj, src)
    assert idx.objects_of["drivers/dma-buf/sw_sync.c"] == ["drivers/dma-buf/sw_sync.o"]
    # the make target keeps kbuild's spelling
    assert idx.objects_of["drivers/gpu/drm/amd/amdkfd/kfd_svm.c"] == \
        ["drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.o"]
    assert idx.includers["include/linux/dma-fence.h"] == {
        "drivers/dma-buf/sw_sync.o", "drivers/gpu/drm/amd/amdgpu/../amdkfd/kfd_svm.o"}


def test_plan_reports_what_is_not_built_and_bounds_header_includers():
    idx = BuildIndex()
    for i, s in enumerate(["drivers/dma-buf/dma-fence.c", "drivers/dma-buf/sw_sync.c", "mm/a.c", "mm/b.c",
                           "kernel/c.c"]):
        o = s[:-2] + ".o"
        idx.source_of[o] = s
        idx.objects_of[s] = [o]
        idx.includers.setdefault("include/linux/dma-fence.h", set()).add(o)
    p = plan(["include/linux/dma-fence.h", "drivers/gpu/x.c", "include/linux/unused.h", "Makefile"], idx,
             {"drivers/dma-buf/sw_sync.c"}, exists=lambda f: True,
             not_built_reason=lambda f: f"{f}: why", header_includers=2)
    assert p.objects[0] == "drivers/dma-buf/sw_sync.o"          # the series' own includer first
    assert p.objects[1] == "drivers/dma-buf/dma-fence.o"        # then the header's namesake
    assert len(p.objects) == 3
    assert p.unchecked == [Unchecked("drivers/gpu/x.c", "drivers/gpu/x.c: why"),
                           Unchecked("include/linux/unused.h", "include/linux/unused.h: why")]
    assert p.not_c == ["Makefile"]
    assert "included by 5 object(s)" in p.notes[0]


def test_not_built_reason_follows_the_makefiles():
    files = {
        "drivers/gpu/drm/amd/amdgpu/Makefile":
            "amdgpu-y := amdgpu_drv.o \\\n\tamdgpu_job.o\nobj-$(CONFIG_DRM_AMDGPU)+= amdgpu.o\n",
        "drivers/gpu/drm/Makefile": "obj-$(CONFIG_DRM)\t+= drm.o\nobj-$(CONFIG_DRM_AMDGPU)+= amd/amdgpu/\n",
        "drivers/dma-buf/Makefile": "obj-y := dma-buf.o\nobj-$(CONFIG_SW_SYNC) += sw_sync.o\n",
    }
    files["drivers/gpu/drm/i915/Makefile"] = ("gt-y += \\\n\tgt/intel_breadcrumbs.o \\\n\tgt/intel_gt.o\n"
                                              "i915-y += $(gt-y)\nobj-$(CONFIG_DRM_I915) += i915.o\n")
    read = files.get
    assert not_built_reason("drivers/gpu/drm/amd/amdgpu/amdgpu_job.c", read, {"CONFIG_DRM": "y"}) == \
        "not built in this config (CONFIG_DRM_AMDGPU is not set)"
    # a folder without a Makefile, listed by its parent through a $(gt-y) list
    assert not_built_reason("drivers/gpu/drm/i915/gt/intel_breadcrumbs.c", read, {}) == \
        "not built in this config (CONFIG_DRM_I915 is not set)"
    # a private header: its folder is not built
    assert not_built_reason("drivers/gpu/drm/amd/amdgpu/amdgpu_vm.h", read, {"CONFIG_DRM": "y"}) == \
        "no object of this config includes it (CONFIG_DRM_AMDGPU is not set)"
    assert not_built_reason("include/linux/unused.h", read, {}) == "no object of this config includes it"
    assert not_built_reason("drivers/dma-buf/sw_sync.c", read, {}) == \
        "not built in this config (CONFIG_SW_SYNC is not set)"
    assert "no object of the build" in not_built_reason("drivers/dma-buf/nothing.c", read, {})


def test_choose_includers_note_names_the_choice():
    idx = BuildIndex(source_of={"a/x.o": "a/x.c", "b/y.o": "b/y.c"})
    objs, note = choose_includers("include/h.h", {"a/x.o", "b/y.o"}, idx, {"b/y.c"}, 0)
    assert objs == ["b/y.o"] and note == "include/h.h: included by 2 object(s) of this config; compiled 1: " \
                                         "1 the series touches"


def test_series_text_marks_new_ones_and_says_what_was_not_checked():
    from harness.checks.render import series_text
    new = _f("drivers/dma-buf/sw_sync.c", 91, "incompatible types in comparison expression (different "
             "address spaces):\nstruct dma_fence_ops const [noderef] __rcu *\nstruct dma_fence_ops const *",
             func="dma_fence_is_sync_pt")
    old = Finding(CheckName.SPARSE, "include/linux/x.h", 3, "old one", new=False)
    r = CheckResult(CheckName.SPARSE, Status.FAILED, reason="1 new", findings=[new, old],
                    unchecked=[Unchecked("drivers/gpu/drm/amd/amdgpu/amdgpu_job.c",
                                         "not built in this config (CONFIG_DRM_AMDGPU is not set)")])
    nr = CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN, reason="the tree has no scripts/checkpatch.pl")
    s = SeriesChecks("0123456789abcdef", "debug", (CheckName.SPARSE, CheckName.CHECKPATCH), patches=[
        PatchChecks(2, "2.patch", "dma-buf/sw_sync: compare the fence ops directly", "c",
                    results={CheckName.SPARSE: r, CheckName.CHECKPATCH: nr})])
    text = series_text(s)
    assert "[2/1] dma-buf/sw_sync: compare the fence ops directly" in text
    assert "    >> drivers/dma-buf/sw_sync.c:91: warning: incompatible types in comparison expression" in text
    assert "          struct dma_fence_ops const [noderef] __rcu *" in text
    assert "       include/linux/x.h:3: warning: old one" in text
    assert "not checked: drivers/gpu/drm/amd/amdgpu/amdgpu_job.c: not built in this config" in text
    assert "checkpatch: not-run: the tree has no scripts/checkpatch.pl" in text


# -- kbuild logs (recorded by the checks, paths shortened to /CHECKS) ---------------------

PATHS = diag.PathMap({"/CHECKS/src": "", "/CHECKS/obj": "", "/CHECKS/obj-single": ""})


def test_sparse_log_with_diagnostic_prefix_and_continuations():
    (d,) = diag.parse((FIX / "logs" / "sparse-rcu-compare.log").read_text(), PATHS)
    assert (d.tool, d.file, d.line, d.column, d.object) == ("sparse", "drivers/dma-buf/sw_sync.c", 91, 27,
                                                             "drivers/dma-buf/sw_sync.o")
    assert d.message.splitlines() == [
        "incompatible types in comparison expression (different address spaces):",
        "struct dma_fence_ops const [noderef] __rcu *", "struct dma_fence_ops const *"]
    assert diag.parse((FIX / "logs" / "sparse-rcu-compare.log").read_text(), PATHS, tool="gcc") == []


def test_w1_log_gives_flag_and_gcc_function_and_ascii_quotes():
    (d,) = diag.parse((FIX / "logs" / "w1-set-but-not-used.log").read_text(), PATHS)
    assert (d.tool, d.file, d.line, d.severity, d.flag, d.function) == (
        "gcc", "drivers/dma-buf/sw_sync.c", 234, "warning", "-Wunused-but-set-variable", "sync_timeline_signal")
    assert d.message == "variable 'last_seqno' set but not used"


def test_recorded_w1_logs_match_across_the_line_shift():
    """patch 2 of series-w1 moves the warning by 8 lines: the same finding, not a new one."""
    from harness.checks.findings import Functions, for_objects, from_diagnostics
    logs = [(FIX / "logs" / n).read_text() for n in ("w1-set-but-not-used.log", "w1-set-but-not-used-moved.log")]
    objs = ["drivers/dma-buf/sw_sync.o"]
    no_source = Functions(lambda f: None)      # gcc's own "In function" is the fallback
    before, after = (from_diagnostics(for_objects(diag.parse(t, PATHS), objs), CheckName.WARNINGS, no_source)
                     for t in logs)
    marked, fixed = mark_new(after, before)
    assert [(f.line, f.new) for f in marked] == [(242, False)] and fixed == []
    # and against an empty baseline it is new
    assert [f.new for f in mark_new(before, [])[0]] == [True]


def test_build_errors_of_a_failed_build():
    from harness.checks.findings import Functions, build_errors
    text = (FIX / "logs" / "build-implicit-declaration.log").read_text()
    errs = build_errors(text, PATHS, Functions(lambda f: None))
    first = errs[0]
    assert (first.file, first.line, first.kind, first.function) == (
        "drivers/dma-buf/sw_sync.c", 91, "-Werror=implicit-function-declaration", "dma_fence_is_sync_pt")
    assert first.message == "implicit declaration of function 'dma_fence_ops_is'; did you mean 'dma_fence_wait'?"
    # make's own "*** Error" lines add nothing once the compiler said why
    assert all(not f.message.startswith("make") for f in errs)


def test_build_errors_keep_linker_and_modpost_lines():
    from harness.checks.findings import Functions, build_errors
    text = ("  LD      vmlinux.o\n"
            "ld: vmlinux.o: in function `dma_fence_is_sync_pt':\n"
            "/CHECKS/src/drivers/dma-buf/sw_sync.c:91: undefined reference to `dma_fence_ops_is'\n"
            "ERROR: modpost: \"dma_fence_ops_is\" [drivers/dma-buf/dmabuf_selftests.ko] undefined!\n"
            "make[2]: *** [/CHECKS/src/scripts/Makefile.vmlinux:34: vmlinux] Error 1\n")
    errs = build_errors(text, PATHS, Functions(lambda f: None))
    msgs = [f.message for f in errs]
    assert "drivers/dma-buf/sw_sync.c:91: undefined reference to `dma_fence_ops_is'" in msgs
    assert any(m.startswith("ERROR: modpost: \"dma_fence_ops_is\"") for m in msgs)
    assert all(f.kind == "link" for f in errs if "undefined" in f.message)


# -- verdicts when a check could not look at everything --------------------------------

def _run(tool, ran=(), diags=(), why_not=None):
    from harness.checks.series import CompileRun
    return CompileRun(tool=tool, diags=list(diags), ran=set(ran), why_not=dict(why_not or {}), log="x.log")


def test_nothing_compiled_is_not_run_with_the_reasons():
    from harness.checks.findings import Functions
    from harness.checks.objects import Plan
    from harness.checks.series import _compare
    none = Functions(lambda f: None)
    p = Plan(unchecked=[Unchecked("drivers/gpu/drm/ttm/ttm_bo.c",
                                  "not built in this config (CONFIG_DRM_TTM is not set)")])
    r = _compare(CheckName.SPARSE, p, _run("sparse"), _run("sparse"), none, none, {}, 1)
    assert r.status is Status.NOT_RUN
    assert r.reason == "drivers/gpu/drm/ttm/ttm_bo.c: not built in this config (CONFIG_DRM_TTM is not set)"
    r = _compare(CheckName.WARNINGS, Plan(not_c=["Documentation/x.rst"]), None, None, none, none, {}, 1)
    assert r.status is Status.NOT_RUN and r.reason == "nothing to compile: the patch touches no C file"
    # make never reached the object: not checked, and with nothing else it is NOT_RUN
    p = Plan(objects=["drivers/dma-buf/sw_sync.o"])
    cur = _run("gcc", why_not={"drivers/dma-buf/sw_sync.o": "make: no rule to make drivers/dma-buf/sw_sync.o"})
    r = _compare(CheckName.WARNINGS, p, cur, _run("gcc"), none, none, {}, 1)
    assert r.status is Status.NOT_RUN and "no rule to make" in r.reason


def test_partly_compiled_is_partial_and_a_new_object_has_no_baseline():
    from harness.checks.findings import Functions
    from harness.checks.objects import Plan
    from harness.checks.series import _compare
    none = Functions(lambda f: None)
    p = Plan(objects=["a.o", "b.o"], unchecked=[Unchecked("c.c", "not built in this config")])
    r = _compare(CheckName.SPARSE, p, _run("sparse", ran={"a.o", "b.o"}), _run("sparse", ran={"a.o"}),
                 none, none, {}, 3)
    assert r.status is Status.PARTIAL and r.checked == ["a.o", "b.o"]
    assert any("not checked with sparse before patch 3" in n and "b.o" in n for n in r.notes)
    d = diag.Diagnostic("sparse", "b.c", 4, 1, "warning", "context imbalance in 'f' - unexpected unlock",
                        object="b.o")
    r = _compare(CheckName.SPARSE, p, _run("sparse", ran={"a.o", "b.o"}, diags=[d]),
                 _run("sparse", ran={"a.o"}), none, none, {}, 3)
    assert r.status is Status.FAILED and [f.file for f in r.new] == ["b.c"]


def test_policy_defaults_and_strict_checkpatch():
    from harness.checks.policy import judge
    cp = checkpatch.result_from_output((FIX / "checkpatch-bad.txt").read_text(), 1)
    sparse_new = CheckResult(CheckName.SPARSE, Status.FAILED, reason="1 new: a.c:1: x")
    partial = CheckResult(CheckName.WARNINGS, Status.PARTIAL, reason="1 file(s) not compiled with W=1",
                          unchecked=[Unchecked("b.c", "not built in this config (CONFIG_B is not set)")])
    s = SeriesChecks("b", "debug", tuple(CheckName), patches=[
        PatchChecks(1, "1.patch", "one", "c1", results={CheckName.CHECKPATCH: cp, CheckName.WARNINGS: partial}),
        PatchChecks(2, "2.patch", "two", "c2", results={CheckName.SPARSE: sparse_new})])
    v = judge(s)
    assert not v.passed and [(i.patch, i.check) for i in v.failures] == [(2, CheckName.SPARSE)]
    assert [(i.patch, i.check) for i in v.unverified] == [(1, CheckName.WARNINGS)]
    v = judge(s, strict_checkpatch=True)
    assert (1, CheckName.CHECKPATCH) in [(i.patch, i.check) for i in v.failures]
    assert "7 checkpatch error(s): OPEN_BRACE" in v.failures[0].reason
    assert judge(s, fail_on=["build"]).passed
