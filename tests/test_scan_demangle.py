"""Frame names from Rust (v0) and C++ are made readable by binutils'
c++filt, once per report (not per frame); without c++filt they stay mangled
and titles still come out."""

from __future__ import annotations

import shutil

import pytest

from harness.detect import demangle, scan_text

pytestmark = pytest.mark.skipif(shutil.which("c++filt") is None, reason="binutils' c++filt is not installed")

RUST_PANIC = """\
[   60.002464][ T2148] rust_kernel: panicked at rust/kernel/page_size_compat.rs:60:5:
[   60.002464][ T2148] attempt to add with overflow
[   60.029392][ T2148] ------------[ cut here ]------------
[   60.034979][ T2148] kernel BUG at rust/helpers/bug.c:7!
[   60.041680][ T2148] Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN PTI
[   60.146289][ T2148] Call Trace:
[   60.146302][ T2148]  <TASK>
[   60.146312][ T2148]  _RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind+0x15b/0x160
[   60.189785][ T2148]  _RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt+0x84/0x90
[   60.405990][ T2148]  _RNvNtNtCs9jEwPDbx20M_4core9panicking11panic_const24panic_const_add_overflow+0xb2/0xc0
[   60.426733][ T2148]  _RNvXs1_CscPPBqWtAqum_11ashmem_rustNtB5_6AshmemNtNtCs43vyB533jt3_6kernel10miscdevice10MiscDevice4mmap+0xe44/0xfb0
[   60.477260][ T2148]  mmap_region+0x1371/0x1bd0
[   60.502857][ T2148]  do_mmap+0xb6d/0x13c0
[   60.502857][ T2148]  </TASK>
"""

CXX_WARNING = """\
[   10.000000] ------------[ cut here ]------------
[   10.000001] WARNING: CPU: 0 PID: 1 at drivers/foo/bar.cc:12 _ZN3foo6Device5probeEv+0x10/0x20
[   10.000002] RIP: 0010:_ZN3foo6Device5probeEv+0x10/0x20
[   10.000003] Call Trace:
[   10.000004]  <TASK>
[   10.000005]  _ZN3foo6Device4initEi+0x20/0x40
[   10.000006]  </TASK>
"""


@pytest.fixture(autouse=True)
def fresh_cache():
    demangle._CACHE.clear()
    yield
    demangle._CACHE.clear()


def test_rust_v0_frames_are_demangled_without_crate_hashes():
    r = scan_text(RUST_PANIC)[0]
    assert r.title == "attempt to add with overflow in <ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap"
    assert r.frame == "<ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap"


def test_cxx_frames_are_demangled():
    assert scan_text(CXX_WARNING)[0].title == "WARNING in foo::Device::probe"


def test_cxxfilt_runs_once_per_report(monkeypatch):
    calls = []
    real = demangle._run_cxxfilt

    def counting(names):
        calls.append(list(names))
        return real(names)

    monkeypatch.setattr(demangle, "_run_cxxfilt", counting)
    scan_text(RUST_PANIC)
    assert len(calls) == 1 and len(calls[0]) >= 4  # every mangled name of the report at once
    scan_text(RUST_PANIC)
    assert len(calls) == 1  # answers are cached


def test_legacy_rust_and_plain_names():
    got = demangle.demangle_all(["_ZN4core9panicking5panic17h0123456789abcdefE", "dma_fence_release"])
    assert got == {"_ZN4core9panicking5panic17h0123456789abcdefE": "core::panicking::panic"}


def test_without_cxxfilt_names_stay_mangled(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no c++filt on PATH
    r = scan_text(RUST_PANIC)[0]
    assert r.title.startswith("attempt to add with overflow in _RNvXs1_CscPPBqWtAqum_11ashmem_rust")
    assert not r.corrupted
