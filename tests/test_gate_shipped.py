"""The shipped series gated the way a developer gates the next one (issue 14,
point 6): `harness gate kernel-patches/rcu-ops` and `harness gate
kernel-patches/inline-lock --on rcu-ops` must give, cell by cell, the verdict
the scenarios' written expectations predict: the base variant's column of
the scenario table (configs/README.md) turning into the series variant's.
The gated series is byte for byte the configured variant's, so the gate
takes what the scenarios write for that variant as the series' contract
(a crash written there is `changed`, not a regression: the inline-lock
series makes unsignaled-inline-drop-after-unload applicable, and it crashes
as written).

Nothing here is hard-coded: the prediction is derived from configs/scenarios
(which the matrix tests hold to the real kernels), the verdicts from a real
gate. Runtime only (the static checks have tests of their own); the gate's
series variant is a stacked build with the same source as the configured
variant, so ccache makes it cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.core.config import load_config
from harness.run.differential import predicted_verdict
from harness.scenarios.spec import load_scenarios

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("series,on,variant", [("rcu-ops", "baseline", "rcu-ops"),
                                               ("inline-lock", "rcu-ops", "inline-lock")])
def test_shipped_series_gate_gives_the_predicted_table(series, on, variant, tmp_path):
    root = tmp_path / "results"
    status = main(["gate", str(ROOT / "kernel-patches" / series), "--on", on, "--results", str(root),
                   "--checks", "runtime"])
    gdir = (root / "latest").resolve()
    g = json.loads((gdir / "gate.json").read_text())
    scenarios = load_scenarios(load_config())
    got = {c["scenario"]: c["verdict"] for c in g["cells"]}
    assert g["twin"] == variant
    want = {name: predicted_verdict(scenarios[name].expectation(on), scenarios[name].expectation(variant),
                                    twin=True)
            for name in got}
    wrong = {n: f"{got[n]} (predicted {want[n]}): {c['why']}" for c in g["cells"]
             for n in [c["scenario"]] if got[n] != want[n]}
    assert not wrong, wrong
    # the default matrix's scenarios, and the series makes a difference somewhere
    assert len(got) >= 20 and set(got.values()) - {"unchanged"}, got
    assert status == 0 and g["passed"] and not g["errors"] and not any(c["fails_gate"] for c in g["cells"])
