"""Real boots of the default build: the command channel and every way a guest dies."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.vm.boot import make_guest
from harness.vm.guest import GuestDied
from harness.vm.qemu import probe_kvm

pytestmark = pytest.mark.slow


@pytest.fixture
def guest_factory(cfg, default_build, tmp_path, no_orphan_qemu):
    made = []

    def make(**kw):
        g = make_guest(cfg.guest, default_build, tmp_path / f"g{len(made)}", root=cfg.root, **kw)
        made.append(g)
        return g
    yield make
    for g in made:
        g.kill()


def test_serial_output_status_and_interleaved_kernel_lines(guest_factory):
    with guest_factory(transport="serial") as g:
        assert g.boot_s is not None
        assert g.cpus == g.spec.smp, "every vCPU QEMU was given is online in the guest"
        r = g.run("echo hello; echo 'kernel noise from the test' > /dev/kmsg; echo world; exit 3",
                  timeout=20)
        assert r.exit_status == 3
        assert r.output == "hello\nworld\n"
        assert any("kernel noise from the test" in l for l in r.kernel_log)
        assert g.run("true").exit_status == 0
        # the step markers are in the kernel log itself
        log = g.console_log.read_text()
        assert "HARNESS-STEP: " in log and "[host +" in log


def test_ssh_output_and_status(guest_factory):
    with guest_factory(transport="ssh") as g:
        r = g.run("echo over-ssh; echo err >&2; exit 5", timeout=20)
        assert r.exit_status == 5
        assert "over-ssh" in r.output and "err" in r.output
        # the console still carries the kernel log
        assert "HARNESS-STEP: " in g.console_log.read_text()


def test_step_timeout_kills_guest(guest_factory):
    g = guest_factory(slowdown=1.0).start()
    t0 = time.monotonic()
    with pytest.raises(GuestDied) as exc:
        g.run("sleep 60", timeout=2, step="sleepy")
    assert exc.value.kind == "timeout" and "sleepy" in exc.value.detail
    # no progress: no extension; the kernel is asked what it is doing, then the guest killed
    assert "extended" not in exc.value.detail and exc.value.evidence is not None
    assert time.monotonic() - t0 < 10 + exc.value.evidence.took_s
    assert not g.alive()


def test_panic_detected_and_log_kept(guest_factory):
    g = guest_factory().start()
    with pytest.raises(GuestDied) as exc:
        g.run("echo c > /proc/sysrq-trigger", timeout=30, step="crash")
    assert exc.value.kind == "panic"
    assert "Kernel panic - not syncing" in g.console_log.read_text()


def test_shell_never_comes_up(cfg, default_build, tmp_path, no_orphan_qemu):
    import dataclasses
    guest_cfg = dataclasses.replace(cfg.guest, boot_timeout_s=8)
    g = make_guest(guest_cfg, default_build, tmp_path, root=cfg.root,
                   extra_cmdline="rdinit=/bin/sleep -- 1000")
    with pytest.raises(GuestDied) as exc:
        g.start()
    assert exc.value.kind == "no-boot"
    assert exc.value.last_lines, "the last console lines are attached"


def test_qemu_that_cannot_start(guest_factory):
    g = guest_factory()
    g.spec.extra.append("-no-such-option")
    with pytest.raises(GuestDied) as exc:
        g.start()
    assert exc.value.kind == "qemu-failed"
    assert "no-such-option" in str(exc.value)


def test_kvm_probe_decides_within_deadline(default_build):
    t0 = time.monotonic()
    ok, why = probe_kvm(default_build.bzimage, deadline_s=5)
    assert time.monotonic() - t0 < 9
    assert why
    # a kernel that is not there can never pass the probe
    ok2, why2 = probe_kvm(default_build.dir / "no-such-bzImage", deadline_s=3)
    assert not ok2


def test_auto_accel_falls_back_to_tcg_when_probe_fails(cfg, default_build, monkeypatch, tmp_path):
    import dataclasses
    from harness.vm import qemu
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(qemu, "probe_kvm", lambda kernel, deadline_s=6: (False, "forced by test"))
    said = []
    g = dataclasses.replace(cfg.guest, accel="auto")
    assert qemu.choose_accel(g, default_build.bzimage, say=said.append) == "tcg"
    assert said and "TCG" in said[0]
    # the verdict is cached: no second probe, no second message
    monkeypatch.setattr(qemu, "probe_kvm", lambda *a, **k: pytest.fail("probed twice"))
    assert qemu.choose_accel(g, default_build.bzimage, say=said.append) == "tcg"
    assert len(said) == 1


def test_boot_cli_propagates_exit_status(root, default_build, no_orphan_qemu):
    proc = subprocess.run([sys.executable, "-m", "harness", "boot", "--", "echo from-cli; exit 7"],
                          cwd=root, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 7, proc.stderr
    assert "from-cli" in proc.stdout


def test_snapshot_saved_at_first_boot_and_restored(cfg, default_build, tmp_path, no_orphan_qemu):
    from harness.vm.guest import Guest
    snaps = tmp_path / "snaps"
    snaps.mkdir()

    def guest(name):
        g = make_guest(cfg.guest, default_build, tmp_path / name, root=cfg.root)
        return Guest(g.spec, g.workdir, boot_timeout=g.boot_timeout, snapshot_dir=snaps)

    with guest("cold") as g:
        assert g.restored is None
        saved = list(snaps.glob("snapshot-*.state"))
        assert len(saved) == 1 and saved[0].stat().st_size > 1 << 20
        assert g.run("echo still-running").output == "still-running\n"   # the saved guest goes on
        cold_s = g.boot_s
    with guest("warm") as g:
        assert g.restored == saved[0]
        assert g.boot_s < cold_s
        r = g.run("cat /proc/sys/kernel/tainted; lsmod | grep -c fence_ || true", timeout=20)
        assert r.output.split() == ["0", "0"]
        log = g.console_log.read_text()
        assert "Run /init" in log and "restored from snapshot-" in log   # the saved boot's log comes first
        # a crash in a restored guest is seen like in a booted one
        with pytest.raises(GuestDied) as exc:
            g.run("echo c > /proc/sysrq-trigger", timeout=30, step="crash")
        assert exc.value.kind == "panic"


def test_unloadable_snapshot_is_dropped_and_guest_boots(cfg, default_build, tmp_path, no_orphan_qemu):
    from harness.vm.guest import Guest
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    g = make_guest(cfg.guest, default_build, tmp_path / "g", root=cfg.root)
    g = Guest(g.spec, g.workdir, boot_timeout=g.boot_timeout, snapshot_dir=snaps)
    bad = g._snapshot_file()
    bad.write_bytes(b"not a migration stream\n" * 100)
    with g:
        assert g.restored is None and g.restore_failure and "no-boot" in g.restore_failure
        assert g.run("true").exit_status == 0
    assert bad.exists() and bad.stat().st_size > 1 << 20, "replaced by a good snapshot"


def test_ssh_long_lived_shell_survives_odd_steps(guest_factory):
    with guest_factory(transport="ssh") as g:
        assert g.run("cat; echo read-eof", timeout=10).output == "read-eof\n"   # stdin is /dev/null
        bad = g.run("if then", timeout=10)                # a syntax error gets its own channel
        assert bad.exit_status != 0 and "syntax error" in bad.output
        assert g.run("cd /tmp; exit 4", timeout=10).exit_status == 4
        assert g.run("pwd", timeout=10).output == "/root\n"   # each step in its own subshell


def test_boot_cli_interactive_console(root, default_build, no_orphan_qemu):
    import pexpect
    p = pexpect.spawn(sys.executable, ["-m", "harness", "boot"], cwd=str(root), encoding="utf-8",
                      timeout=60)
    p.expect("interactive console")
    p.sendline("echo typed-$((6*7))")        # typed right after the banner: not lost
    p.expect("typed-42")
    p.send("\x1d")                            # Ctrl-] leaves
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0
