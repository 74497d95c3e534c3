"""Canary: prove a build can report what the harness looks for.

For each class of report the profile claims to catch, deliberately trigger
one in a booted guest (LKDTM for what it has; our harness_canary module for
lockdep, suspicious RCU usage and a call into an unloaded module) and check
the detector reports it with the right kind and a title naming the right
function. A class whose canary is not seen makes the build *blind* to it;
the runner then refuses to call a dependent cell clean.

Order matters: lockdep switches itself off after its first splat and an
oops taints the kernel, so the checks that need a pristine kernel go first
and the ones that oops go last. A guest that dies is rebooted for the rest.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.build.kernel import Build
from harness.core.config import HarnessConfig
from harness.core.util import read_json, sha256_text, write_json
from harness.detect import scan_range
from harness.vm.boot import make_guest
from harness.vm.guest import GuestDied

DIRECT = "/sys/kernel/debug/provoke-crash/DIRECT"
CANARY_DIR = "/sys/kernel/debug/harness_canary"


@dataclass(frozen=True)
class Trigger:
    cls: str            # the class of report this proves the kernel can emit
    trigger: str        # what fires it, for humans
    run: str            # guest command
    kind: tuple[str, ...]   # detector kinds accepted
    title: str          # regex the title must match (names the right function)
    needs: tuple[str, ...] = ()   # config options without which the class cannot exist


def _lkdtm(name: str) -> str:
    return f"modprobe lkdtm 2>/dev/null; echo {name} > {DIRECT}"


# in the order they run (see module doc)
TRIGGERS: tuple[Trigger, ...] = (
    Trigger("RCU", "harness_canary rcu_suspicious", f"modprobe harness_canary && echo 1 > {CANARY_DIR}/rcu_suspicious",
            ("LOCKDEP",), r"suspicious RCU usage in canary_", ("CONFIG_PROVE_RCU",)),
    Trigger("LOCKDEP", "harness_canary lockdep_abba", f"modprobe harness_canary && echo 1 > {CANARY_DIR}/lockdep_abba",
            ("LOCKDEP",), r"possible deadlock in canary_", ("CONFIG_PROVE_LOCKING",)),
    Trigger("REFCOUNT", "lkdtm REFCOUNT_DEC_ZERO", _lkdtm("REFCOUNT_DEC_ZERO"), ("REFCOUNT",),
            r"lkdtm_REFCOUNT_DEC_ZERO", ("CONFIG_BUG",)),
    Trigger("WARNING", "lkdtm WARNING", _lkdtm("WARNING"), ("WARNING",), r"WARNING in lkdtm_WARNING",
            ("CONFIG_BUG",)),
    Trigger("KASAN", "lkdtm READ_AFTER_FREE", _lkdtm("READ_AFTER_FREE"), ("KASAN",),
            r"KASAN: .*use-after-free.* in lkdtm_READ_AFTER_FREE", ("CONFIG_KASAN",)),
    Trigger("BUG", "lkdtm BUG", _lkdtm("BUG"), ("BUG",), r"kernel BUG in lkdtm_BUG", ("CONFIG_BUG",)),
    # a NULL store; with KASAN inline the shadow check faults first, as a GPF
    Trigger("PAGE_FAULT", "lkdtm EXCEPTION", _lkdtm("EXCEPTION"), ("PAGE_FAULT", "GPF"),
            r"lkdtm_EXCEPTION", ()),
    Trigger("UNLOADED_CALL", "harness_canary call into unloaded module",
            f"modprobe harness_canary && modprobe harness_canary_victim && "
            f"rmmod harness_canary_victim && echo 1 > {CANARY_DIR}/call_victim", ("PAGE_FAULT",),
            r"unable to handle page fault.* in (canary_call_unloaded_victim|trigger_write)", ()),
)
RECIPE = sha256_text(repr(TRIGGERS))[:12]


@dataclass
class CanaryRow:
    cls: str
    trigger: str
    seen: bool
    title: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        return {"class": self.cls, "trigger": self.trigger, "seen": self.seen, "title": self.title,
                "detail": self.detail}


def judge_trigger(t: Trigger, reports) -> CanaryRow:
    """Was the trigger's report seen, with the right kind and function in the title?"""
    for r in reports:
        if r.kind in t.kind and re.search(t.title, r.title):
            return CanaryRow(t.cls, t.trigger, True, r.title)
    got = "; ".join(f"{r.kind}: {r.title}" for r in reports) or "no report at all"
    return CanaryRow(t.cls, t.trigger, False, reports[0].title if reports else "",
                     f"expected {'|'.join(t.kind)} /{t.title}/, got {got}")


def triggers_for(catches) -> list[Trigger]:
    wanted = set(catches)
    return [t for t in TRIGGERS if not wanted or t.cls in wanted or
            (t.cls == "UNLOADED_CALL" and "PAGE_FAULT" in wanted)]


def run_canary(cfg: HarnessConfig, build: Build, workdir: Path, log=None) -> list[CanaryRow]:
    say = log or (lambda m: print(m, file=sys.stderr, flush=True))
    profile = cfg.profile(build.profile)
    rows: list[CanaryRow] = []
    pending = triggers_for(profile.catches)
    boots = 0
    guest = None
    try:
        while pending:
            if guest is None:
                boots += 1
                guest = make_guest(cfg.guest, build, workdir / f"boot{boots}", root=cfg.root)
                try:
                    guest.start()
                except GuestDied as died:
                    for t in pending:
                        rows.append(CanaryRow(t.cls, t.trigger, False, "", f"guest did not boot: {died.kind}"))
                    break
            t = pending.pop(0)
            start = len(guest.console.lines)
            died = None
            try:
                guest.run(t.run, timeout=20, step=f"canary-{t.cls}")
                # a report can trail the command by a moment (RCU, workqueues)
                guest.run("sleep 0.2", timeout=10, step=f"canary-{t.cls}-settle")
            except GuestDied as exc:
                died = exc
            reports = scan_range(guest.console.lines[start:], start)
            row = judge_trigger(t, reports)
            if died and not row.seen:
                row.detail += f" (guest {died.kind})"
            rows.append(row)
            say(f"canary {build.variant}/{build.profile}: {t.cls:<13} {'seen' if row.seen else 'NOT SEEN'}"
                f"{': ' + row.title if row.title else ''}")
            if died:
                guest = None
    finally:
        if guest is not None:
            guest.kill()
    return rows


def canary_for_build(cfg: HarnessConfig, build: Build, log=None, force: bool = False) -> list[dict]:
    """The cached canary table of a build (run once per build key)."""
    profile = cfg.profile(build.profile)
    key = sha256_text(f"{build.key}|{RECIPE}|{','.join(profile.catches)}")
    cache = build.dir / "canary.json"
    cached = read_json(cache, {})
    if cached.get("key") == key and not force:
        return cached["rows"]
    t0 = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="canary-", dir=build.dir))
    rows = [r.to_json() for r in run_canary(cfg, build, workdir, log)]
    write_json(cache, {"key": key, "rows": rows, "duration_s": round(time.monotonic() - t0, 1),
                       "workdir": str(workdir)})
    for old in build.dir.glob("canary-*"):
        if old.is_dir() and old != workdir:   # the logs of an earlier verdict
            shutil.rmtree(old, ignore_errors=True)
    return rows
