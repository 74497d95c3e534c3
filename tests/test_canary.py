"""The canary on the real default build: every class the debug profile claims is seen."""

from __future__ import annotations

import time

import pytest

from harness.run.canary import canary_for_build, triggers_for

pytestmark = pytest.mark.slow


def test_default_build_sees_every_class(cfg, default_build):
    t0 = time.monotonic()
    rows = canary_for_build(cfg, default_build, force=True)
    took = time.monotonic() - t0
    profile = cfg.profile(default_build.profile)
    assert {r["class"] for r in rows} == {t.cls for t in triggers_for(profile.catches)}
    blind = {r["class"]: r["detail"] for r in rows if not r["seen"]}
    assert not blind, blind
    print(f"canary of {default_build.variant}/{default_build.profile}: {took:.1f}s")
    # cached with the build key: the second call does not boot
    t0 = time.monotonic()
    assert canary_for_build(cfg, default_build) == rows
    assert time.monotonic() - t0 < 1
