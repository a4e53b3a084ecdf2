"""Service definitions as each manager reads them: systemd units, launchd plists, task XML."""

from __future__ import annotations

import plistlib
import shlex
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent import service
from agent.notify import ServiceNotifier

CONFIG = Path("/etc/autocapture/autocapture.yaml")
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def unit_lines(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
        elif line:
            sections[current].append(line)
    return sections


def test_user_unit_notifies_restarts_on_failure_and_runs_this_interpreter() -> None:
    plan = service.plan("systemd", CONFIG, version=252)
    units = unit_lines(plan.content.decode())
    svc = units["Service"]
    assert "Type=notify" in svc and "WatchdogSec=120s" in svc
    assert "Restart=on-failure" in svc and "RestartSec=10s" in svc
    assert not any(line.startswith("RestartSteps") for line in svc)  # 252 rejects it
    assert not any(line.startswith("User=") for line in svc)
    assert units["Install"] == ["WantedBy=default.target"]
    exec_start = next(line for line in svc if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[1:] == ["-m", "agent.cli", "--config", str(CONFIG), "run"]
    assert plan.path.parts[-3:] == ("systemd", "user", "autocapture.service")
    assert plan.enable[-1] == ("systemctl", "--user", "enable", "--now", "autocapture.service")


def test_newer_systemd_gets_growing_restart_delays() -> None:
    svc = unit_lines(service.plan("systemd", CONFIG, version=255).content.decode())["Service"]
    assert "RestartSteps=6" in svc and "RestartMaxDelaySec=15min" in svc


def test_system_unit_runs_as_its_own_user_hardened() -> None:
    plan = service.plan("systemd", CONFIG, system=True, version=252)
    svc = unit_lines(plan.content.decode())["Service"]
    for line in (
        "User=autocapture",
        "StateDirectory=autocapture",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
    ):
        assert line in svc
    assert plan.path == Path("/etc/systemd/system/autocapture.service")
    assert plan.enable[-1] == ("systemctl", "enable", "--now", "autocapture.service")


def test_exec_start_keeps_percent_dollar_and_quotes_literal() -> None:
    assert service.systemd_quote('/srv/a b/100%"$HOME"') == '"/srv/a b/100%%\\"$$HOME\\""'


def test_launchd_plist_round_trips_and_restarts_only_after_failure() -> None:
    plan = service.plan("launchd", CONFIG)
    loaded = plistlib.loads(plan.content)
    assert loaded["Label"] == "org.autocapture.agent"
    assert loaded["KeepAlive"] == {"SuccessfulExit": False}
    assert loaded["RunAtLoad"] is True
    args = loaded["ProgramArguments"]
    assert args[1:5] == ["-m", "agent.cli", "--config", str(CONFIG)]
    assert args[5] == "--log-file" and args[6].endswith("Library/Logs/autocapture/autocapture.log")
    assert args[-1] == "run"
    assert plistlib.loads(plistlib.dumps(loaded)) == loaded
    assert plan.path.name == "org.autocapture.agent.plist"


def test_windows_task_is_a_logon_task_that_restarts_on_failure() -> None:
    plan = service.plan("windows", Path("C:/Users/rep/autocapture.yaml"))
    root = ET.fromstring(plan.content.decode("utf-16"))
    assert root.find("t:Triggers/t:LogonTrigger/t:Enabled", TASK_NS).text == "true"  # type: ignore[union-attr]
    restart = root.find("t:Settings/t:RestartOnFailure", TASK_NS)
    assert restart is not None
    assert restart.find("t:Count", TASK_NS).text == "999"  # type: ignore[union-attr]
    assert root.find("t:Settings/t:ExecutionTimeLimit", TASK_NS).text == "PT0S"  # type: ignore[union-attr]
    arguments = root.find("t:Actions/t:Exec/t:Arguments", TASK_NS).text  # type: ignore[union-attr]
    assert arguments is not None and arguments.endswith(" run")
    assert "--log-file" in arguments
    assert plan.enable[0][:3] == ("schtasks", "/Create", "/TN")


def test_system_is_refused_where_it_means_nothing() -> None:
    with pytest.raises(service.ServiceError, match="--system is for systemd"):
        service.plan("launchd", CONFIG, system=True)


def test_a_system_service_refuses_a_config_in_a_home_directory(tmp_path: Path) -> None:
    plan = service.plan("systemd", Path("/home/rep/autocapture.yaml"), system=True)
    with pytest.raises(service.ServiceError, match="home directories are hidden"):
        service.install(plan, system=True)


def test_notifier_sends_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(5)
        notifier = ServiceNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        notifier.ready("polling 2 accounts")
        notifier.ping(now=100.0)
        notifier.ping(now=100.5)  # within half the period: not sent
        notifier.ping(now=101.0)
        notifier.stopping()
        got = [sock.recv(1024).decode() for _ in range(4)]
    assert got[0] == "READY=1\nSTATUS=polling 2 accounts"
    assert got[1:3] == ["WATCHDOG=1", "WATCHDOG=1"]
    assert got[3].startswith("STOPPING=1\n")


def test_notifier_is_silent_outside_a_service_manager() -> None:
    notifier = ServiceNotifier({})
    assert not notifier.active
    notifier.ready("x")  # nothing to send to, and nothing raised
    assert ServiceNotifier({"NOTIFY_SOCKET": "vsock:2:1"}).active is False
