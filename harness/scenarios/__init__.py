"""Scenarios: their definitions (configs/scenarios/*.yaml) and running their
steps on a booted guest."""
