"""Shared fixtures. Real kernel builds and boots are session-scoped: built once,
shared by every test that needs them (caches live in $HARNESS_CACHE or
~/.cache/harness, so a second run reuses them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cfg():
    from harness.core.config import load_config
    return load_config(ROOT / "configs" / "harness.yaml")


@pytest.fixture(scope="session")
def default_build(cfg):
    """The default variant/profile, built for real (minutes cold, instant warm)."""
    from harness.build.kernel import ensure_build
    return ensure_build(cfg, cfg.variant(None), cfg.profile(None))


@pytest.fixture(scope="session")
def source_tree(cfg):
    from harness.intake.source import prepare_source
    return prepare_source(cfg.sources[cfg.variant(None).source])


TAG = f"harness-test-{os.getpid()}"
os.environ["HARNESS_QEMU_TAG"] = TAG   # inherited by every QEMU this test session starts


def qemu_pids() -> set[int]:
    """QEMU processes started by this test session (found by an inherited env tag)."""
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if b"qemu-system" not in (d / "cmdline").read_bytes():
                continue
            if f"HARNESS_QEMU_TAG={TAG}".encode() in (d / "environ").read_bytes():
                out.add(int(d.name))
        except OSError:
            continue
    return out


@pytest.fixture
def no_orphan_qemu():
    """Asserts that a test leaves no QEMU process behind."""
    yield
    import time
    # wait for the state (QEMU gone, as kill() is asynchronous for the kernel),
    # with a deadline that only bounds a QEMU that really stays
    deadline = time.monotonic() + 15
    while (left := qemu_pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"QEMU processes left running: {left}"


def git_init(path: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", "base"], check=True, env=env)
