"""Kernel patch-series test harness: build, boot under QEMU, exercise, scan."""

__version__ = "0.1.0"
