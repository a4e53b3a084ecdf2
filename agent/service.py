"""Installing ``autocapture run`` as a background service: systemd, launchd, Task Scheduler.

Each service manager gets a definition that restarts the agent when it fails
(never when it exits cleanly after a stop request), and the commands that
enable, disable and query it. Rendering is pure (``ServiceSpec`` in, file
text out) so the files can be checked by the managers' own tools
(``systemd-analyze verify``, ``plutil``, ``schtasks``) and round-tripped in
tests; only ``install``/``uninstall``/``status`` touch the machine.

- systemd (Linux): a user unit by default, so a rep needs no root; with
  ``--system`` a hardened unit that runs as its own ``autocapture`` user with
  its state in ``/var/lib/autocapture``. ``Type=notify`` and ``WatchdogSec``:
  the agent reports READY once polling and pings the watchdog from its
  scheduler loop (``agent.notify``). Logs go to the journal.
- launchd (macOS): a LaunchAgent that keeps the agent alive after a failure;
  launchd does not rotate files, so the agent writes its own rotating log.
- Task Scheduler (Windows): a logon task that restarts on failure, with the
  same rotating log.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

NAME = "autocapture"
LAUNCHD_LABEL = "org.autocapture.agent"
PLATFORMS = ("systemd", "launchd", "windows")
WATCHDOG_SECONDS = 120
# systemd 254 added RestartSteps/RestartMaxDelaySec (growing restart delays);
# older managers reject the keys, so they get a fixed delay instead.
RESTART_STEPS_SINCE = 254


class ServiceError(Exception):
    """A service operation that cannot be done as asked; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What the service runs and where it keeps its files."""

    command: tuple[str, ...]
    system: bool = False
    systemd_version: int = 0  # 0: unknown, render what every supported systemd accepts


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """A rendered service definition and the manager commands that go with it."""

    platform: str
    config: Path
    path: Path
    content: bytes
    enable: tuple[tuple[str, ...], ...]
    disable: tuple[tuple[str, ...], ...]
    query: tuple[tuple[str, ...], ...]


def current_platform() -> str:
    if sys.platform == "darwin":
        return "launchd"
    if sys.platform == "win32":
        return "windows"
    return "systemd"


def agent_command(config: Path, log_file: Path | None = None) -> tuple[str, ...]:
    """The interpreter that runs this code, so a virtualenv install keeps its packages."""
    command = [sys.executable, "-m", "agent.cli", "--config", str(config.resolve())]
    if log_file is not None:
        command += ["--log-file", str(log_file)]
    return (*command, "run")


def systemd_quote(arg: str) -> str:
    """One ExecStart argument: quoted, with specifiers and variables kept literal (systemd.syntax)."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("%", "%%").replace("$", "$$") + '"'


def systemd_unit(spec: ServiceSpec) -> str:
    restart = ["Restart=on-failure", "RestartSec=10s"]
    if spec.systemd_version >= RESTART_STEPS_SINCE:
        restart += ["RestartSteps=6", "RestartMaxDelaySec=15min"]
    service = [
        "Type=notify",
        "NotifyAccess=main",
        f"WatchdogSec={WATCHDOG_SECONDS}s",
        "ExecStart=" + " ".join(systemd_quote(a) for a in spec.command),
        *restart,
        # A clean stop finishes and commits the batch in hand first.
        "KillSignal=SIGTERM",
        "TimeoutStopSec=90s",
        "UMask=0077",
        "NoNewPrivileges=yes",
    ]
    unit = ["Description=autocapture: contacts and interactions from mail and calendars"]
    install = "default.target"
    if spec.system:
        unit += ["Wants=network-online.target", "After=network-online.target"]
        service += _SYSTEM_HARDENING
        install = "multi-user.target"
    # Stop restarting only when it fails this often in a short time: a broken
    # configuration then shows as failed instead of looping forever.
    unit += ["StartLimitIntervalSec=10min", "StartLimitBurst=10"]
    sections = [("Unit", unit), ("Service", service), ("Install", [f"WantedBy={install}"])]
    return "\n".join(f"[{name}]\n" + "\n".join(lines) + "\n" for name, lines in sections)


_SYSTEM_HARDENING = [
    f"User={NAME}",
    f"Group={NAME}",
    f"StateDirectory={NAME}",
    "StateDirectoryMode=0700",
    # platformdirs then puts the embedded database in /var/lib/autocapture/autocapture.
    f"Environment=XDG_DATA_HOME=/var/lib/{NAME}",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictSUIDSGID=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
]


def launchd_plist(command: tuple[str, ...], log_dir: Path) -> bytes:
    definition = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        # Restart after a failure, not after a clean stop.
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,  # launchd's spacing between restarts
        "ProcessType": "Background",
        "ExitTimeOut": 90,
        "Umask": 0o077,
        "StandardErrorPath": str(log_dir / "launchd-stderr.log"),
    }
    return plistlib.dumps(definition)


def windows_task(command: tuple[str, ...]) -> bytes:
    program, arguments = command[0], subprocess.list2cmdline(list(command[1:]))
    xml = _TASK_XML.format(program=escape(program), arguments=escape(arguments))
    return xml.encode("utf-16")  # schtasks /XML reads the encoding the declaration names


_TASK_XML = """\
<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>autocapture: contacts and interactions from mail and calendars</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Hidden>true</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{program}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def plan(platform: str, config: Path, system: bool = False, version: int = 0) -> ServicePlan:
    """The definition for ``platform`` and the commands that manage it."""
    if platform not in PLATFORMS:
        raise ServiceError(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")
    if system and platform != "systemd":
        raise ServiceError("--system is for systemd; launchd and Task Scheduler run per user")
    if platform == "systemd":
        return _systemd_plan(config, system, version)
    log_dir = _log_dir(platform)
    command = agent_command(config, log_dir / "autocapture.log")
    if platform == "launchd":
        path = Path.home() / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
        domain = f"gui/{os.getuid()}" if hasattr(os, "getuid") else "gui"
        return ServicePlan(
            platform,
            config,
            path,
            launchd_plist(command, log_dir),
            enable=(("launchctl", "bootstrap", domain, str(path)),),
            disable=(("launchctl", "bootout", f"{domain}/{LAUNCHD_LABEL}"),),
            query=(("launchctl", "print", f"{domain}/{LAUNCHD_LABEL}"),),
        )
    path = log_dir / f"{NAME}-task.xml"
    return ServicePlan(
        platform,
        config,
        path,
        windows_task(command),
        enable=(
            ("schtasks", "/Create", "/TN", NAME, "/XML", str(path), "/F"),
            ("schtasks", "/Run", "/TN", NAME),
        ),
        disable=(("schtasks", "/Delete", "/TN", NAME, "/F"),),
        query=(("schtasks", "/Query", "/TN", NAME, "/V", "/FO", "LIST"),),
    )


def _systemd_plan(config: Path, system: bool, version: int) -> ServicePlan:
    unit = f"{NAME}.service"
    ctl: tuple[str, ...]
    if system:
        path, ctl = Path("/etc/systemd/system") / unit, ("systemctl",)
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        path, ctl = Path(base) / "systemd" / "user" / unit, ("systemctl", "--user")
    spec = ServiceSpec(agent_command(config), system=system, systemd_version=version)
    return ServicePlan(
        "systemd",
        config,
        path,
        systemd_unit(spec).encode(),
        enable=((*ctl, "daemon-reload"), (*ctl, "enable", "--now", unit)),
        disable=((*ctl, "disable", "--now", unit),),
        query=((*ctl, "is-enabled", unit), (*ctl, "is-active", unit)),
    )


def _log_dir(platform: str) -> Path:
    if platform == "launchd":
        return Path.home() / "Library" / "Logs" / NAME
    base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    return Path(base) / NAME / "Logs"


def systemd_version() -> int:
    """The local systemd's version, 0 when there is none or it cannot be read."""
    if shutil.which("systemctl") is None:
        return 0
    try:
        out = subprocess.run(
            ["systemctl", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    found = re.match(r"systemd (\d+)", out)
    return int(found.group(1)) if found else 0


def install(service: ServicePlan, system: bool = False) -> list[str]:
    """Write the definition (0644 for the manager, never a secret in it), then enable it."""
    if system:
        _check_system_config(service)
        _ensure_system_user()
    service.path.parent.mkdir(parents=True, exist_ok=True)
    service.path.write_bytes(service.content)
    service.path.chmod(0o644)
    return [f"wrote {service.path}", *run_all(service.enable)]


def uninstall(service: ServicePlan) -> list[str]:
    if not service.path.exists():
        return [f"not installed: no {service.path}"]
    lines = run_all(service.disable, check=False)
    service.path.unlink()
    return [*lines, f"removed {service.path}"]


def status(service: ServicePlan) -> list[str]:
    if not service.path.exists():
        return [f"not installed: no {service.path}"]
    return [f"installed: {service.path}", *run_all(service.query, check=False)]


def run_all(commands: tuple[tuple[str, ...], ...], check: bool = True) -> list[str]:
    """Run the manager's commands in order; a missing tool or a failure stops with its output."""
    lines = []
    for command in commands:
        if shutil.which(command[0]) is None:
            manual = "; ".join(" ".join(c) for c in commands)
            raise ServiceError(f"{command[0]} not found on PATH; run by hand: {manual}")
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=60, check=False
        )
        output = (done.stdout + done.stderr).strip()
        lines.append(f"$ {' '.join(command)}" + (f"\n{output}" if output else ""))
        if check and done.returncode != 0:
            raise ServiceError(f"{' '.join(command)} failed (exit {done.returncode}): {output}")
    return lines


def _check_system_config(service: ServicePlan) -> None:
    # ProtectHome=yes hides /home, /root and /run/user from the service.
    config = str(service.config.resolve())
    if config.startswith(("/home/", "/root/", "/run/user/")):
        raise ServiceError(
            f"the system service cannot read {config} (home directories are hidden from it); "
            f"put the configuration in /etc/{NAME}/ readable by the {NAME} user"
        )


def _ensure_system_user() -> None:
    import pwd

    try:
        pwd.getpwnam(NAME)
    except KeyError:
        nologin = shutil.which("nologin") or "/usr/sbin/nologin"
        run_all(
            (
                (
                    "useradd",
                    "--system",
                    "--home-dir",
                    f"/var/lib/{NAME}",
                    "--no-create-home",
                    "--shell",
                    nologin,
                    NAME,
                ),
            )
        )
