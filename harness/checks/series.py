"""check_series(): the per-patch checks of a series, walking its prefixes once.

For a series of n patches on a base, the checks' work tree (tree.py) goes
through prefix 0 (the base), 1, ..., n. At every prefix k >= 1 the kernel
and the guest modules are built incrementally in one objdir (only what the
patch changed is recompiled, ccache turns unchanged objects into hits).
At every prefix the objects of patch k (for its own findings) and those of
patch k+1 (as that patch's baseline) are compiled with W=1 and checked with
sparse, so each patch is compared with the prefix before it without ever
going back. checkpatch runs on each patch file with the base's script.

Which objects a patch needs is decided from the full build of the prefix
(objects.py); for patch k+1 the baseline uses the build at k, and an object
that only the build at k+1 reveals (a new file, a new includer) has no
baseline: its findings count as new, and the result says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from harness.build.kconfig import make_config, parse_config
from harness.checks import checkpatch, diag
from harness.checks.compare import added_lines, mark_new
from harness.checks.findings import Functions, build_errors, for_objects, from_diagnostics
from harness.checks.kbuild import BUILD_TARGETS, SPARSE, Kbuild
from harness.model.checks import (ALL_CHECKS, CheckName, CheckResult, Finding, PatchChecks, SeriesChecks,
                                  Severity, Status, Unchecked)
from harness.checks.objects import DEFAULT_HEADER_INCLUDERS, BuildIndex, Plan, not_built_reason, plan
from harness.checks.tree import ChecksArea
from harness.core.config import Profile, cache_root
from harness.core.errors import BuildError, InputError
from harness.core.util import sha256_file, sha256_text
from harness.intake.patches import vet_patch

CONFIG_RECIPE = "1"     # bump when the way the checks objdir is configured changes
_NO_RULE = re.compile(r"No rule to make target '([^']+)'")


@dataclass
class CompileRun:
    """One make of single objects at one prefix: what it printed, and which objects it reached."""
    tool: str                                # "gcc" (W=1) or "sparse"
    diags: list[diag.Diagnostic] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)             # normalised object paths
    why_not: dict[str, str] = field(default_factory=dict)  # object -> why make did not reach it
    log: str | None = None


@dataclass
class Prefix:
    commit: str
    built: bool | None = None                 # None: no full build at this prefix in this run
    build_log: str | None = None
    build_findings: list[Finding] = field(default_factory=list)
    guest_failed: bool = False
    built_targets: tuple[str, ...] = ()       # what the build made: vmlinux, modules, guest modules
    w1: CompileRun | None = None
    sparse: CompileRun | None = None


class _Timer:
    def __init__(self, into: dict[str, float]):
        self.into = into

    @contextlib.contextmanager
    def __call__(self, phase: str):
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.into[phase] = round(self.into.get(phase, 0.0) + time.monotonic() - t0, 2)


def check_series(source_repo: Path, base_commit: str, patches: Sequence[Path], profile: Profile, *,
                 checks=ALL_CHECKS, workdir: Path, cache: Path | None = None,
                 guest_root: Path | None = None, jobs: int | None = None,
                 header_includers: int = DEFAULT_HEADER_INCLUDERS,
                 log: Callable[[str], None] | None = None) -> SeriesChecks:
    """Run the checks on every patch of a series applied on `base_commit` of `source_repo`.

    `patches`: `git format-patch` files, in order. `workdir`: where logs go
    (one folder per patch). `guest_root`: the project root whose
    guest-modules/ must build at every prefix (None: the kernel only, said in
    the notes). A patch that does not apply is a PatchError (exit 2) naming
    it; a check that cannot run says so in its result.
    """
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    wanted = CheckName.parse(checks)
    patches = [Path(p).resolve() for p in patches]     # git and checkpatch run elsewhere
    if not patches:
        raise InputError("check_series: no patches to check")
    subjects = [vet_patch("checks", p) for p in patches]
    cache = Path(cache) if cache else cache_root()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    area = ChecksArea(cache, profile.name, Path(source_repo))
    series = SeriesChecks(base_commit=base_commit, profile=profile.name, checks=wanted)
    timer = _Timer(series.timings)
    n = len(patches)
    with area.lock():
        with timer("prepare"):
            commits = area.apply(base_commit, patches)
            series.base_commit = commits[0]
            touched: list[list[str]] = [[]]
            added: list[dict[str, set[int]]] = [{}]
            for k in range(1, n + 1):
                changes = area.changes(commits[k - 1], commits[k])
                touched.append([c.path for c in changes if c.status != "D"])
                added.append(added_lines(area.diff(commits[k - 1], commits[k])))
                series.patches.append(PatchChecks(index=k, patch=str(patches[k - 1]),
                                                  subject=subjects[k - 1] or area.subject(commits[k]),
                                                  commit=commits[k], files=[c.path for c in changes]))
        logdirs = [workdir / "00-base"] + [workdir / f"{k:02d}-{_stem(patches[k - 1])}" for k in range(1, n + 1)]

        # checkpatch runs with the base's own script, spelling list, ...: the work
        # tree stays at the base until it is done (meanwhile prefix 0 compiles)
        area.checkout(commits[0])
        pool = ThreadPoolExecutor(max_workers=2) if CheckName.CHECKPATCH in wanted else None
        t_cp = time.monotonic()
        ends: list[float] = []
        pending = [pool.submit(_checkpatch, area, patches[k - 1], commits[k], logdirs[k] / "checkpatch.txt", ends)
                   for k in range(1, n + 1)] if pool else []

        def checkpatch_done() -> None:
            if pool is None or not pending:
                return
            for k, fut in enumerate(pending, 1):
                series.patches[k - 1].results[CheckName.CHECKPATCH] = fut.result()
            pending.clear()
            pool.shutdown()
            series.timings["checkpatch"] = round(max(ends, default=t_cp) - t_cp, 2)

        have_sparse = shutil.which(SPARSE) is not None
        if CheckName.SPARSE in wanted and not have_sparse:
            series.notes.append("sparse is not installed: the sparse check did not run")
            for pc in series.patches:
                pc.results[CheckName.SPARSE] = CheckResult(CheckName.SPARSE, Status.NOT_RUN,
                                                           reason="sparse is not installed")
        try:
            if set(wanted) & {CheckName.BUILD, CheckName.WARNINGS} or (CheckName.SPARSE in wanted and have_sparse):
                _compile_checks(area, commits, touched, added, series, logdirs, profile, cache, guest_root,
                                jobs, header_includers, timer, say, checkpatch_done)
            checkpatch_done()
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    return series


def _stem(p: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", p.stem)[:60]


def _checkpatch(area: ChecksArea, patch: Path, commit: str, log_path: Path, ends: list[float]) -> CheckResult:
    res = checkpatch.check_patch(area.src, patch, log_path)
    fns = Functions(lambda f: area.show(commit, f))
    res.findings = [f if f.function else _with_function(f, fns) for f in res.findings]
    ends.append(time.monotonic())
    return res


def _with_function(f: Finding, fns: Functions) -> Finding:
    return replace(f, function=fns(f.file, f.line))


# -- building and compiling, prefix by prefix -------------------------------------

def _configure(area: ChecksArea, profile: Profile, kb: Kbuild, base: str) -> None:
    """The profile's .config in the checks objdir, made again only when its inputs change.

    The inputs are the profile (base target, fragment contents) and the
    tree's Kconfig files, not the base commit: series on other bases of the
    same source (rcu-ops on the base, inline-lock on rcu-ops) reuse it.
    """
    stamp = sha256_text("\n".join([CONFIG_RECIPE, area.kconfig_id(base), profile.base,
                                   *(f"{f.name}:{sha256_file(f)}" for f in profile.fragments)]))
    stamp_file = area.root / "config.stamp"
    if (area.obj / ".config").is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return
    make_config(area.src, area.obj, profile, kb.env)
    stamp_file.write_text(stamp)


def _compile_checks(area, commits, touched, added, series: SeriesChecks, logdirs, profile, cache,
                    guest_root, jobs, header_includers, timer, say, leaving_base: Callable[[], None]) -> None:
    wanted = set(series.checks)
    n = len(commits) - 1
    kb = Kbuild(area.src, area.obj, area.obj_single, cache, jobs)
    paths = diag.PathMap({str(area.src): "", str(area.obj): "", str(area.obj_single): "",
                          str(area.guest / "guest" / "kmod"): "guest-modules/kmod/"})
    series_files = {f for t in touched for f in t}
    prefixes = [Prefix(c) for c in commits]
    functions = [Functions(lambda f, c=c: area.show(c, f)) for c in commits]
    have_sparse = shutil.which(SPARSE) is not None
    if guest_root is None and CheckName.BUILD in wanted:
        series.notes.append("no guest modules given: the build check covers the kernel only")

    with timer("prepare"):
        area.checkout(commits[0])
        _configure(area, profile, kb, commits[0])
    if not (area.obj / "vmlinux").is_file():
        say(f"checks: first build of the checks objdir {area.obj} (cold: minutes)")
        with timer("build"):
            _finish_build(kb.start_build(logdirs[0] / "build.log"), kb, prefixes[0], guest_root, area, paths,
                          functions[0])
    with timer("prepare"):
        index = BuildIndex.scan(area.obj, area.src)

    plans: list[Plan | None] = [None] * (n + 1)
    single = wanted & {CheckName.WARNINGS, CheckName.SPARSE}
    if CheckName.SPARSE in single and not have_sparse:
        single.discard(CheckName.SPARSE)

    def plan_for(k: int, reasons: bool = True) -> Plan:
        """Patch k's objects, from the work tree as it is checked out now (prefix k or k-1)."""
        config = parse_config((area.obj / ".config").read_text()) if reasons else {}
        return plan(touched[k], index, series_files,
                    exists=lambda f: (area.src / f).is_file(),
                    not_built_reason=(lambda f: not_built_reason(f, area.read, config)) if reasons
                    else (lambda f: ""),
                    header_includers=header_includers)

    def compile_single(k: int, objs: list[str], suffix: str = "") -> None:
        if not objs or not single:
            return
        kb.sync_single_config()
        pre = prefixes[k]
        if CheckName.WARNINGS in single:
            say(f"checks: prefix {k}/{n}: W=1 on {len(objs)} object(s)")
            with timer("warnings"):
                run = kb.compile_w1(objs, logdirs[k] / f"w1{suffix}.log")
                pre.w1 = _merge(pre.w1, _compile_run("gcc", run.text, objs, paths, str(run.log_path),
                                                     r"CC( \[M\])?"))
        if CheckName.SPARSE in single:
            say(f"checks: prefix {k}/{n}: sparse on {len(objs)} object(s)")
            with timer("sparse"):
                run = kb.sparse(objs, logdirs[k] / f"sparse{suffix}.log", w1=CheckName.WARNINGS in wanted)
                pre.sparse = _merge(pre.sparse, _compile_run("sparse", run.text, objs, paths, str(run.log_path),
                                                             "CHECK"))

    for k in range(0, n + 1):
        pre = prefixes[k]
        if k == 1:
            leaving_base()
        area.checkout(commits[k])
        # the objects of patch k and, as its baseline, of patch k+1, planned from the
        # last build; the build of this prefix runs meanwhile (the two make share
        # only the read-only source tree), and whatever it reveals is compiled after
        objs: list[str] = []
        if k >= 1:
            objs += plan_for(k, reasons=False).objects
        if k < n:
            objs += plan_for(k + 1, reasons=False).objects
        objs = list(dict.fromkeys(objs))
        building = None
        if k >= 1 and CheckName.BUILD in wanted:
            say(f"checks: prefix {k}/{n}: build")
            building = kb.start_build(logdirs[k] / "build.log")
            t_build = time.monotonic()
        try:
            compile_single(k, objs)
            if building is not None:
                _finish_build(building, kb, pre, guest_root, area, paths, functions[k])
                series.timings["build"] = round(series.timings.get("build", 0.0) + time.monotonic() - t_build, 2)
        finally:
            if building is not None:
                building.kill()
        if building is not None and pre.built is False and k == 1 and prefixes[0].built is None:
            # whose break is it? the base's own build answers once
            say("checks: prefix 1 does not build: building the base to compare")
            with timer("build"):
                area.checkout(commits[0])
                _finish_build(kb.start_build(logdirs[0] / "build.log"), kb, prefixes[0], guest_root, area,
                              paths, functions[0])
                area.checkout(commits[k])
        if building is not None:
            with timer("prepare"):
                index.refresh()
        if k >= 1:
            plans[k] = plan_for(k)
            late = [o for o in plans[k].objects if o not in objs]
            compile_single(k, late, suffix="-late")

    with timer("analysis"):
        for k in range(1, n + 1):
            pc = series.patches[k - 1]
            if CheckName.BUILD in wanted:
                pc.results[CheckName.BUILD] = _build_result(prefixes[k], prefixes[k - 1], k)
            if CheckName.WARNINGS in wanted:
                pc.results[CheckName.WARNINGS] = _compare(
                    CheckName.WARNINGS, plans[k], prefixes[k].w1, prefixes[k - 1].w1,
                    functions[k], functions[k - 1], added[k], k)
            if CheckName.SPARSE in wanted and have_sparse:
                pc.results[CheckName.SPARSE] = _compare(
                    CheckName.SPARSE, plans[k], prefixes[k].sparse, prefixes[k - 1].sparse,
                    functions[k], functions[k - 1], added[k], k)


def _merge(a: CompileRun | None, b: CompileRun) -> CompileRun:
    if a is None:
        return b
    ran = a.ran | b.ran
    return CompileRun(tool=a.tool, diags=a.diags + b.diags, ran=ran,
                      why_not={o: r for o, r in {**a.why_not, **b.why_not}.items() if o not in ran}, log=a.log)


def _finish_build(running, kb: Kbuild, pre: Prefix, guest_root, area: ChecksArea, paths, functions) -> None:
    run = running.wait()
    log_path = run.log_path
    pre.build_log = str(log_path)
    pre.built = run.returncode == 0
    if not pre.built:
        pre.build_findings = build_errors(run.text, paths, functions)
        return
    pre.built_targets = BUILD_TARGETS
    if guest_root is not None:
        try:
            kb.build_guest_modules(Path(guest_root), area.guest, log_path)
        except BuildError as exc:
            pre.built, pre.guest_failed = False, True
            pre.build_findings = build_errors(log_path.read_text(errors="replace").split(
                "=== guest modules ===", 1)[-1], paths, functions) or [
                Finding(CheckName.BUILD, None, None, str(exc).splitlines()[0], Severity.ERROR, "guest-modules")]
            return
        pre.built_targets += ("guest modules",)


def _compile_run(tool: str, text: str, objs: list[str], paths: diag.PathMap, log: str, verb: str) -> CompileRun:
    cr = CompileRun(tool=tool, log=log)
    cr.diags = diag.parse(text, paths, tool=tool)
    quiet = re.compile(rf"^  (?:{verb})\s+(?P<path>\S+)\s*$")
    for line in text.splitlines():
        m = quiet.match(line)
        if m:
            target = paths(m.group("path"))
            cr.ran.add(os.path.normpath(re.sub(r"\.c$", ".o", target)))
        m = _NO_RULE.search(line)
        if m:
            cr.why_not[os.path.normpath(paths(m.group(1)))] = f"make: no rule to make {m.group(1)}"
    for o in objs:
        no = os.path.normpath(o)
        if no not in cr.ran and no not in cr.why_not:
            cr.why_not[no] = f"make did not {'compile' if tool == 'gcc' else 'check'} it (see {log})"
    return cr


# -- verdicts ------------------------------------------------------------------------

def _build_result(cur: Prefix, prev: Prefix, k: int) -> CheckResult:
    if cur.built is None:
        return CheckResult(CheckName.BUILD, Status.NOT_RUN, reason="the prefix was not built")
    if cur.built:
        return CheckResult(CheckName.BUILD, Status.PASSED, checked=list(cur.built_targets), log=cur.build_log)
    previous = prev.build_findings if prev.built is False else []
    findings, _ = mark_new(cur.build_findings, previous)
    what = "the guest modules do not build" if cur.guest_failed else "the kernel does not build"
    if prev.built is False and not any(f.new for f in findings):
        reason = f"{what} (already broken before patch {k}: no new errors)"
    else:
        first = next((f for f in findings if f.new), findings[0] if findings else None)
        reason = f"{what} with patch {k}" + (f": {first.location()}: {first.message.splitlines()[0]}"
                                              if first else "")
    notes = ["the base was not built in this run"] if k == 1 and prev.built is None else []
    return CheckResult(CheckName.BUILD, Status.FAILED, reason=reason, findings=findings, log=cur.build_log,
                       notes=notes)


def _compare(check: CheckName, p: Plan | None, cur: CompileRun | None, prev: CompileRun | None,
             fn_cur: Functions, fn_prev: Functions, added: dict[str, set[int]], k: int) -> CheckResult:
    p = p or Plan()
    what = "compiled with W=1" if check is CheckName.WARNINGS else "checked with sparse"
    res = CheckResult(check, Status.PASSED, unchecked=list(p.unchecked), notes=list(p.notes))
    if p.not_c:
        res.notes.append(f"not C, left to the build check: {', '.join(p.not_c)}")
    if not p.objects:
        res.status = Status.NOT_RUN
        res.reason = ("; ".join(f"{u.file}: {u.reason}" for u in p.unchecked) if p.unchecked
                      else "nothing to compile: the patch touches no C file")
        return res
    cur = cur or CompileRun(tool="")
    res.log = cur.log
    ran = [o for o in p.objects if os.path.normpath(o) in cur.ran]
    for o in p.objects:
        if os.path.normpath(o) not in cur.ran:
            res.unchecked.append(Unchecked(o, cur.why_not.get(os.path.normpath(o), f"not {what}")))
    res.checked = ran
    if not ran:
        res.status = Status.NOT_RUN
        res.reason = "; ".join(f"{u.file}: {u.reason}" for u in res.unchecked)
        return res
    prev = prev or CompileRun(tool="")
    base = [o for o in ran if os.path.normpath(o) in prev.ran]
    no_base = [o for o in ran if o not in base]
    if no_base:
        res.notes.append(f"not {what} before patch {k} (new, or not built then): every finding of "
                         f"{', '.join(no_base)} counts as new")
    current = from_diagnostics(for_objects(cur.diags, ran), check, fn_cur)
    previous = from_diagnostics(for_objects(prev.diags, base), check, fn_prev)
    res.findings, res.fixed = mark_new(current, previous, added)
    new = res.new
    if new:
        res.status = Status.FAILED
        res.reason = f"{len(new)} new: " + "; ".join(f"{f.location()}: {f.message.splitlines()[0]}"
                                                      for f in new[:3])
    elif res.unchecked:
        res.status = Status.PARTIAL
        res.reason = f"{len(res.unchecked)} file(s) not {what}: " + "; ".join(
            f"{u.file}: {u.reason}" for u in res.unchecked[:3])
    return res
