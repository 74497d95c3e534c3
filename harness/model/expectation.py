"""What a scenario must give on a variant (configs/scenarios/*.yaml `expect:`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Expectation:
    outcome: str
    kind: str | None = None
    title: str | None = None         # regex searched in the report title
    step: str | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.outcome == "report":
            s = f"report {self.kind or ''} /{self.title or '.*'}/".replace("  ", " ")
            return s + (f" at {self.step}" if self.step else "")
        return self.outcome

    def classes(self) -> set[str]:
        """Report classes the kernel must be able to emit for this to mean anything."""
        if self.outcome == "clean":
            return {"*"}
        if self.outcome == "report" and self.kind:
            return {self.kind}
        return set()

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "kind": self.kind, "title": self.title, "step": self.step,
                "reason": self.reason}

    @classmethod
    def from_json(cls, d: dict | None, described: str | None = None) -> "Expectation":
        d = d if isinstance(d, dict) else {}
        outcome = d.get("outcome") or (described.split()[0] if described else "clean")
        return cls(str(outcome), d.get("kind"), d.get("title"), d.get("step"), str(d.get("reason") or ""))
