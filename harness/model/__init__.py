"""Data types that cross stage boundaries, and pure functions over them.

The runner produces a `CellResult` per cell; results, JUnit, markdown, the
HTML page, merge, bisect, repro and comparisons consume it. summary.json is
its serialisation. Nothing here imports a stage.
"""

from harness.model.cell import CellResult, ReportRef, StepResult, Subtest
from harness.model.expectation import Expectation
from harness.model.outcome import DEATHS, OUTCOMES, Outcome

__all__ = ["CellResult", "DEATHS", "Expectation", "OUTCOMES", "Outcome", "ReportRef", "StepResult",
           "Subtest"]
