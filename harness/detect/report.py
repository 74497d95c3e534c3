"""What the detector hands out: one :class:`Report` per kernel report, and
:class:`ScanError` when a log cannot be scanned at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["Report", "ScanError"]


class ScanError(Exception):
    """A log could not be scanned (unreadable, a directory, binary, ...)."""


@dataclass
class Report:
    """One kernel report found in a log."""

    kind: str
    title: str
    frame: str | None
    corrupted: bool
    module: str | None
    last_unloaded: str | None
    step: str | None
    signature: str
    start_line: int
    end_line: int
    text: str
    modules_linked: list[str] = field(default_factory=list)
    tainted: str | None = None
    alt_titles: list[str] = field(default_factory=list)
    corrupted_reason: str | None = None
    modules_unloading: list[str] = field(default_factory=list)
    location: str | None = None  # file:line of the guilty frame, once symbolised

    def to_json(self) -> dict:
        d = asdict(self)
        # Key order: the contract's keys first.
        keys = ["kind", "title", "frame", "corrupted", "module", "last_unloaded", "step",
                "signature", "start_line", "end_line"]
        out = {k: d.pop(k) for k in keys}
        out.update(d)
        return out
