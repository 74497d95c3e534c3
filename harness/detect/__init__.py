"""The crash detector: a pure text library (no guest, no build, no config).

`scan_lines`/`scan_text`/`scan_bytes`/`scan_file` return one `Report` per
kernel report found; `formats` holds what the reports look like, as data;
`symbolize` adds file:line to frames given the binaries.
"""

from harness.detect.scanner import (Report, ScanError, normalize_title, scan_bytes, scan_file,
                                    scan_lines, scan_range, scan_text)

__all__ = ["Report", "ScanError", "normalize_title", "scan_bytes", "scan_file", "scan_lines",
           "scan_range", "scan_text"]
