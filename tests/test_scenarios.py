"""Scenario files: schema errors name file, key path and line; selftest parsing."""

from __future__ import annotations

import textwrap

import pytest

from harness.core.errors import ConfigError
from harness.scenarios.spec import load_scenario_file
from harness.suites.dmafence import parse_dmabuf_selftests

GOOD = """\
scenarios:
  - name: s1
    steps:
      - name: a
        run: "true"
    expect:
      default: clean
      v1: {outcome: report, kind: BUG, title: "page fault in x", step: a, reason: r}
      v2: "n/a: kernel lacks it"
"""


def load(tmp_path, text, variants=("v1", "v2")):
    f = tmp_path / "s.yaml"
    f.write_text(textwrap.dedent(text))
    return load_scenario_file(f, list(variants))


def test_good(tmp_path):
    (s,) = load(tmp_path, GOOD)
    assert s.expectation("v1").outcome == "report" and s.expectation("v1").step == "a"
    assert s.expectation("v2").outcome == "n/a" and "lacks" in s.expectation("v2").reason
    assert s.expectation("other").outcome == "clean"


@pytest.mark.parametrize("change,key,words", [
    (("        run: \"true\"\n", "        run: \"true\"\n        bogus: 1\n"), "scenarios[0].steps[0].bogus", "unknown key"),
    (("      v2: \"n/a: kernel lacks it\"\n", "      v3: clean\n"), "scenarios[0].expect.v3", "unknown variant"),
    (("step: a,", "step: zz,"), "scenarios[0].expect.v1.step", "unknown step"),
    (("title: \"page fault in x\"", "title: \"(\""), "scenarios[0].expect.v1.title", "not a valid regex"),
    (("default: clean", "default: exploded"), "scenarios[0].expect.default", "unknown outcome"),
    (("  - name: s1", "  - name: S 1"), "scenarios[0].name", "must match"),
])
def test_errors(tmp_path, change, key, words):
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, GOOD.replace(*change))
    msg = str(exc.value)
    assert "s.yaml:" in msg and key in msg and words in msg, msg


def test_selftest_parser():
    klog = ["[ 1.0] dma-buf: Running dma_fence", "[ 1.1] dma-buf: Running dma_fence/sanitycheck",
            "[ 1.2] dma-buf: Running dma_fence/test_signaling",
            "[ 1.3] dma-buf/dma_fence: test_signaling failed with error -22"]
    parsed = parse_dmabuf_selftests("", klog)
    tests, failure = [t.to_json() for t in parsed.subtests], parsed.failure
    assert {t["name"]: t["result"] for t in tests} == {"dma_fence/sanitycheck": "pass",
                                                        "dma_fence/test_signaling": "fail (-22)"}
    assert "test_signaling" in failure


def test_shipped_scenarios_load(cfg):
    from harness.run.matrix import load_matrix
    from harness.scenarios.spec import load_scenarios
    scenarios = load_scenarios(cfg)
    assert len(scenarios) > 20
    cells = load_matrix(cfg).cells()
    assert {c.variant for c in cells} == {"baseline", "rcu-ops", "inline-lock"}
    full = load_matrix(cfg, cfg.root / "configs/matrix-full.yaml").cells()
    assert len(full) == 3 * len(scenarios)
