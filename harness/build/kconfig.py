"""Kernel configuration: a base target plus fragments, merged and then checked.

Like kunit_tool's config validation: every option a fragment asks for must be
in the final .config, and every one that did not stick is listed with what
was requested and what came out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.core.config import Profile
from harness.core.errors import KconfigError
from harness.core.util import run

ARCH = "x86_64"
_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
BASE_TARGETS = ("tinyconfig", "defconfig", "allnoconfig", "allmodconfig", "allyesconfig", "kvm_guest.config")


@dataclass(frozen=True)
class Request:
    option: str
    value: str        # "n" for "is not set"
    fragment: Path
    line: int


def parse_config(text: str) -> dict[str, str]:
    """Option -> value ("n" when explicitly not set)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        m = _SET.match(line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(line)
        if m:
            out[m.group(1)] = "n"
    return out


def requests(fragments) -> list[Request]:
    """What the fragments ask for; a later fragment overrides an earlier one."""
    found: dict[str, Request] = {}
    for frag in fragments:
        for n, raw in enumerate(Path(frag).read_text().splitlines(), 1):
            line = raw.strip()
            if not line or (line.startswith("#") and not _UNSET.match(line)):
                continue
            m = _SET.match(line) or _UNSET.match(line)
            if not m:
                raise KconfigError(f"{frag}:{n}: not a config line: {raw!r}")
            value = m.group(2) if m.re is _SET else "n"
            found[m.group(1)] = Request(m.group(1), value, Path(frag), n)
    return list(found.values())


def mismatches(reqs: list[Request], final: dict[str, str]) -> list[str]:
    bad = []
    for r in reqs:
        actual = final.get(r.option, "n")
        if actual != r.value:
            shown = "not set" if actual == "n" else actual
            want = "not set" if r.value == "n" else r.value
            bad.append(f"{r.option}: requested {want} ({r.fragment.name}:{r.line}), got {shown}")
    return bad


def make_config(srctree: Path, objdir: Path, profile: Profile, make_env: dict | None = None) -> str:
    """Write objdir/.config for the profile and validate it; returns its text."""
    objdir.mkdir(parents=True, exist_ok=True)
    base = profile.base
    common = ["make", "-s", "-C", str(srctree), f"O={objdir}", f"ARCH={ARCH}"]
    if base in BASE_TARGETS:
        run(common + [base], env=make_env)
    else:
        src = Path(base)
        if not src.is_file():
            raise KconfigError(f"profile {profile.name}: base {base!r} is neither a make target "
                               f"({', '.join(BASE_TARGETS)}) nor a config file")
        (objdir / ".config").write_text(src.read_text())
    frags = [str(f) for f in profile.fragments]
    proc = run([str(srctree / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(objdir),
                str(objdir / ".config"), *frags], cwd=srctree, env=(make_env or {}) | {"ARCH": ARCH},
               check=False)
    if proc.returncode != 0:
        raise KconfigError(f"profile {profile.name}: merge_config.sh failed: {proc.stderr.strip()[-1000:]}")
    run(common + ["olddefconfig"], env=make_env)
    text = (objdir / ".config").read_text()
    bad = mismatches(requests(profile.fragments), parse_config(text))
    if bad:
        raise KconfigError(f"profile {profile.name}: {len(bad)} requested option(s) did not stick "
                           "(a missing dependency, or a symbol this kernel does not have):\n  "
                           + "\n  ".join(bad))
    return text


def _tristate_ok(want: str, got: str) -> bool:
    """A kselftest config line asks for a feature, not its linkage: m and y satisfy each other."""
    if want in ("y", "m"):
        return got in ("y", "m")
    return want == got


def selftest_config_mismatches(srctree: Path, collections, final: dict[str, str]) -> list[str]:
    """What the kselftests' own config files (tools/testing/selftests/<c>/config) ask
    for and the final .config does not give, each with the file:line that asked."""
    bad = []
    for coll in collections:
        rel = Path("tools/testing/selftests") / coll / "config"
        path = Path(srctree) / rel
        if not path.is_file():
            continue     # a collection without config needs nothing
        for r in requests([path]):
            actual = final.get(r.option, "n")
            if not _tristate_ok(r.value, actual):
                shown = "not set" if actual == "n" else actual
                want = "not set" if r.value == "n" else r.value
                bad.append(f"{rel}:{r.line}: {r.option}={want} requested, the final .config has "
                           f"{shown}")
    return bad


def check_selftest_config(srctree: Path, collections, config_text: str, profile: str) -> None:
    """Fail the build (KconfigError) when the profile does not satisfy the kselftests' needs."""
    bad = selftest_config_mismatches(srctree, collections, parse_config(config_text))
    if bad:
        raise KconfigError(f"profile {profile}: the final .config does not satisfy {len(bad)} "
                           "option(s) the kselftests need (m satisfies y; add them to the "
                           "profile's fragments):\n  " + "\n  ".join(bad))
