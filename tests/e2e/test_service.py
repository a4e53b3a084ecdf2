"""``autocapture service``: units that systemd accepts, installed as a rep would, run as systemd would."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.sync import sync_once
from config.loader import load, load_text
from storage import open_database
from tests.e2e.sample import ROOT, demo_config_text, snapshot
from tests.watchdog import HANG

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and not os.environ.get("AUTOCAPTURE_REQUIRE_SERVERS"),
    reason="systemd-analyze is not installed",
)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    path = tmp_path / "autocapture.yaml"
    path.write_text(demo_config_text(f"sqlite:///{tmp_path / 'capture.db'}"))
    return path


@needs_systemd_analyze
@pytest.mark.parametrize("system", [False, True])
def test_generated_units_pass_systemd_analyze_verify(
    tmp_path: Path, demo_config: Path, system: bool
) -> None:
    flags = ["--system"] if system else []
    done = cli("--config", str(demo_config), "service", "install", "--print", *flags)
    assert done.returncode == 0, done.stderr
    unit = tmp_path / "autocapture.service"
    unit.write_text(done.stdout)
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 even for unknown keys; each problem is a line naming the file.
    assert verify.returncode == 0
    assert [line for line in verify.stderr.splitlines() if str(unit) in line] == []


@needs_systemd_analyze
def test_systemd_analyze_reports_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: an unknown key is reported against the file."""
    unit = tmp_path / "autocapture.service"
    unit.write_text("[Service]\nType=notify\nExecStart=/bin/true\nRestartStepz=5\n")
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert any("RestartStepz" in line for line in verify.stderr.splitlines())


def recording_systemctl(folder: Path) -> Path:
    """A systemctl stand-in on PATH that records its arguments (no systemd in a container)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "systemctl"
    log = folder / "systemctl.log"
    tool.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "systemd 252 (252.39)"; exit 0; fi\n'
        f'echo "$*" >> {log}\n'
        'if [ "$2" = "is-active" ]; then echo active; fi\n'
    )
    tool.chmod(0o755)
    return log


def test_install_status_uninstall_as_a_rep(tmp_path: Path, demo_config: Path) -> None:
    log = recording_systemctl(tmp_path)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
    }
    base = ("--config", str(demo_config), "service")
    installed = cli(*base, "install", "--platform", "systemd", env=env)
    assert installed.returncode == 0, installed.stderr
    unit = tmp_path / "xdg" / "systemd" / "user" / "autocapture.service"
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert f'"--config" "{demo_config}" "run"' in unit.read_text()
    state = cli(*base, "status", "--platform", "systemd", env=env)
    assert state.returncode == 0 and f"installed: {unit}" in state.stdout
    removed = cli(*base, "uninstall", "--platform", "systemd", env=env)
    assert removed.returncode == 0 and not unit.exists()
    assert log.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable --now autocapture.service",
        "--user is-enabled autocapture.service",
        "--user is-active autocapture.service",
        "--user disable --now autocapture.service",
    ]


def test_install_refuses_a_config_that_cannot_run(tmp_path: Path) -> None:
    broken = tmp_path / "autocapture.yaml"
    broken.write_text("accounts:\n  - name: x\n    kind: archive\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    done = cli("--config", str(broken), "service", "install", "--platform", "systemd", env=env)
    assert done.returncode == 2
    assert not (tmp_path / "xdg" / "systemd").exists()


def test_install_without_systemctl_says_what_to_run(tmp_path: Path, demo_config: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PATH": str(tmp_path / "empty")}
    done = cli("--config", str(demo_config), "service", "install", "--platform", "systemd", env=env)
    assert done.returncode == 1
    assert "systemctl not found on PATH; run by hand: systemctl --user daemon-reload" in done.stderr


def interactions(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM interactions").fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def receive(sock: socket.socket, deadline: float) -> str:
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    return sock.recv(4096).decode()


def test_the_units_command_line_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """Started as systemd starts it: READY, watchdog pings, SIGTERM, exit 0, nothing lost.

    One account: ``run`` polls accounts in parallel, so with two the order in
    which they first meet a person (the rule on a participant row) would
    differ from the sequential reference.
    """
    demo_config = tmp_path / "autocapture.yaml"
    text = demo_config_text(f"sqlite:///{tmp_path / 'capture.db'}")
    demo_config.write_text(text[: text.index("  - name: bob")])
    unit = cli(
        "--config", str(demo_config), "service", "install", "--print", "--platform", "systemd"
    )
    exec_start = next(x for x in unit.stdout.splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    notify_path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify_path)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NOTIFY_SOCKET": notify_path,
            "WATCHDOG_USEC": "1000000",
        }
        agent = subprocess.Popen(argv, cwd="/", env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + HANG
        try:
            assert receive(sock, deadline).startswith("READY=1\n")
            assert receive(sock, deadline) == "WATCHDOG=1"
            db = tmp_path / "capture.db"
            while interactions(db) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)  # polling a file another process writes
            agent.send_signal(signal.SIGTERM)
            _, stderr = agent.communicate(timeout=HANG)
            while (message := receive(sock, deadline)) == "WATCHDOG=1":
                pass
        finally:
            if agent.poll() is None:
                agent.kill()
    assert agent.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert message.startswith("STOPPING=1\n")
    # Whatever the stop interrupted was committed whole: finishing with a sync
    # gives exactly what one uninterrupted capture gives.
    settings = load(demo_config)
    sync_once(settings, open_database(settings.database_url))
    reference = load_text(
        demo_config.read_text().replace("capture.db", "reference.db"), base_dir=tmp_path
    )
    sync_once(reference, open_database(reference.database_url))
    assert snapshot(open_database(settings.database_url).engine) == snapshot(
        open_database(reference.database_url).engine
    )


def test_a_second_run_on_one_sqlite_database_says_so_and_exits(
    tmp_path: Path, demo_config: Path
) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(demo_config), "run"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = tmp_path / "capture.db.locks" / ":run.lock"
        deadline = time.monotonic() + HANG
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a file another process writes
        second = cli("--config", str(demo_config), "run")
        assert (second.returncode, second.stdout) == (1, "")
        assert second.stderr == (
            f"autocapture: `autocapture run` is already running against {tmp_path / 'capture.db'}"
            f" (pid {first.pid}); stop it first, or use `autocapture sync` for a one-off pass\n"
        )
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=HANG)
        assert first.returncode == 0, stderr
    finally:
        if first.poll() is None:
            first.kill()
