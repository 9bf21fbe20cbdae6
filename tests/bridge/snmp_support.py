"""Helpers for the SNMP tests: net-snmp's command-line tools as the independent client.

The tools are host binaries from Debian's ``snmp``, ``snmptrapd`` and ``smitools`` packages;
``scripts/install-snmp-tools.sh`` installs them (scripts/test.sh runs it). ``require_tools``
runs that script when a tool is missing on a machine where it can (root, apt-get, not inside
the Python 3.14 chroot of scripts/ha-latest.sh) and otherwise skips with the reason.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIB_DIRS = f"{REPO / 'mibs' / 'stubs'}:{REPO / 'mibs'}"
INSTALLER = REPO / "scripts" / "install-snmp-tools.sh"
TOOLS = ("snmpget", "snmpwalk", "snmpbulkwalk", "snmpset", "snmptrapd", "smilint", "snmptranslate")
HOST = "127.0.0.1"
COMMUNITY = "acurev-test-ro"
USER, AUTH_KEY, PRIV_KEY = "nms", "auth-secret-1", "priv-secret-1"
# Keep net-snmp from reading the machine's snmp.conf / MIB settings or writing state beside it.
TOOL_ENV = {
    "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin",
    "MIBS": "",
    "MIBDIRS": "",
    "SNMPCONFPATH": "/nonexistent",
    "HOME": "/nonexistent",
}


def _missing() -> list[str]:
    return [t for t in TOOLS if shutil.which(t, path=TOOL_ENV["PATH"]) is None]


def _in_chroot() -> bool:
    """True inside a chroot such as scripts/ha-latest.sh's (which mounts no /proc)."""
    try:
        return os.stat("/").st_ino != os.stat("/proc/1/root/.").st_ino
    except OSError:
        return True  # no /proc: not the host's normal root; do not apt-get into it


_INSTALL = {"tried": False}


def require_tools() -> None:
    """Skip unless net-snmp and smitools are present (installing them when we can)."""
    missing = _missing()
    if (
        missing
        and not _INSTALL["tried"]
        and os.geteuid() == 0
        and shutil.which("apt-get")
        and not _in_chroot()
    ):
        _INSTALL["tried"] = True
        subprocess.run(["bash", str(INSTALLER)], check=False, timeout=600)
        missing = _missing()
    if missing:
        where = "this chroot (tests never apt-get into one)" if _in_chroot() else "this machine"
        pytest.skip(
            f"net-snmp/smitools not installed in {where}: {', '.join(missing)}; "
            "run scripts/install-snmp-tools.sh"
        )


@dataclass(slots=True)
class Result:
    """A finished tool run."""

    rc: int
    out: str
    err: str


async def run(*args: str, limit: float = 30.0) -> Result:
    """Run a tool without blocking the loop the agent answers in."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=TOOL_ENV,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return Result(
        proc.returncode if proc.returncode is not None else -1,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
    )


def v2c(community: str = COMMUNITY) -> list[str]:
    """Arguments for SNMPv2c."""
    return ["-v2c", "-c", community]


def v3(
    user: str = USER, auth: str = AUTH_KEY, priv: str = PRIV_KEY, level: str = "authPriv"
) -> list[str]:
    """Arguments for SNMPv3 with SHA + AES-128."""
    args = ["-v3", "-l", level, "-u", user, "-a", "SHA", "-A", auth]
    if level == "authPriv":
        args += ["-x", "AES", "-X", priv]
    return args


def target(port: int) -> str:
    """net-snmp's agent address."""
    return f"udp:{HOST}:{port}"


async def tool(
    name: str,
    security: list[str],
    port: int,
    *oids: str,
    extra: tuple[str, ...] = (),
    seconds: float = 1.0,
    retries: int = 0,
) -> Result:
    """Run ``name`` (snmpget, snmpwalk, ...) against the agent with numeric output."""
    return await run(
        name,
        *security,
        "-t",
        str(seconds),
        "-r",
        str(retries),
        "-On",
        "-m",
        "",
        *extra,
        target(port),
        *oids,
    )


_LINE = re.compile(r"^(\.[\d.]+) = (?:([\w-]+): )?(.*)$")


def parse(output: str) -> dict[str, tuple[str, str]]:
    """``-On`` output lines -> {oid: (type, value)} (strings unquoted)."""
    values: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        oid, kind, value = match.group(1), match.group(2) or "", match.group(3)
        if kind == "STRING" and value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        values[oid] = (kind, value)
    return values


def numbers(output: str) -> dict[str, int]:
    """Numeric values of ``-On -Oe`` style output (INTEGER, Counter64, Gauge32...)."""
    out: dict[str, int] = {}
    for oid, (kind, value) in parse(output).items():
        if kind in ("INTEGER", "Counter64", "Counter32", "Gauge32", "Timeticks"):
            match = re.match(r"-?\d+", value.split("(")[-1] if "(" in value else value)
            if match:
                out[oid] = int(match.group(0))
    return out


class TrapDaemon:
    """A snmptrapd on a loopback port that logs received notifications to its stdout."""

    def __init__(
        self, port: int, workdir: Path, *, community: str = "traps", engine_id: bytes | None = None
    ) -> None:
        self.port = port
        self.workdir = workdir
        self.community = community
        self.engine_id = engine_id
        self.proc: asyncio.subprocess.Process | None = None
        self.output = ""
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start and wait until it listens."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "snmptrapd.conf"
        lines = [
            f"authCommunity log {self.community}",
            # informs: snmptrapd is the authoritative engine (its own engine ID)
            f"createUser {USER} SHA {AUTH_KEY} AES {PRIV_KEY}",
            f"authUser log {USER} priv",
        ]
        if self.engine_id is not None:
            # traps: the agent is authoritative; its persisted engine ID makes this possible
            lines.insert(
                1, f"createUser -e 0x{self.engine_id.hex()} {USER} SHA {AUTH_KEY} AES {PRIV_KEY}"
            )
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = dict(TOOL_ENV, SNMP_PERSISTENT_DIR=str(self.workdir / "persist"))
        self.proc = await asyncio.create_subprocess_exec(
            "snmptrapd",
            "-f",
            "-Lo",
            "-n",
            "-C",
            "-c",
            str(conf),
            "-On",
            "-m",
            "",
            f"udp:{HOST}:{self.port}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env=env,
        )
        self._reader = asyncio.create_task(self._read())
        await self.wait_for("NET-SNMP version", within=10)

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.output += line.decode(errors="replace")

    async def wait_for(self, text: str, within: float = 10.0) -> str:
        """Wait until ``text`` appears in the log; return the log."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while text not in self.output:
            if loop.time() > deadline:
                raise AssertionError(f"snmptrapd never logged {text!r}; log:\n{self.output}")
            await asyncio.sleep(0.02)
        return self.output

    def notifications(self) -> list[dict[str, tuple[str, str]]]:
        """Received notifications, each as {oid: (type, value)}."""
        return [
            parse("\n".join(part.strip() for part in line.split("\t")))
            for line in self.output.splitlines()
            if ".1.3.6.1.6.3.1.1.4.1.0 = " in line
        ]

    async def stop(self) -> None:
        """Terminate it."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader
