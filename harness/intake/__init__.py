"""Intake: where kernel sources and patch series come from, and how a series is
vetted and applied (never touching the user's own tree)."""
