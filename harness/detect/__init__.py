"""The crash detector: a pure text library (no guest, no build, no config).

`scan_lines`/`scan_text`/`scan_bytes`/`scan_file` return one `Report` per
kernel report found (`scan_files` scans several files, a file that cannot be
read becoming an error entry); `formats` holds what the reports look like, as
data; `symbolize` adds file:line to frames given the binaries.

Modules: `scanner` (the streaming state machine), `prefix` (line prefixes),
`prefilter`, `headers` (report starts and their kernel shape), `titles` and
`frames` (titles, guilty frames), `demangle` (c++filt), `modules` (module and
taint attribution), `assemble` (a Report from collected lines), `files`
(reading and decompressing), `report` (the types handed out).
"""

from harness.detect.files import FileScan, scan_file, scan_files
from harness.detect.report import Report, ScanError
from harness.detect.scanner import scan_bytes, scan_lines, scan_range, scan_text
from harness.detect.titles import normalize_title

__all__ = ["FileScan", "Report", "ScanError", "normalize_title", "scan_bytes", "scan_file", "scan_files",
           "scan_lines", "scan_range", "scan_text"]
