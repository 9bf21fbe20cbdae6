"""Throwaway: checks scripts/ha-latest.sh's environment. Delete after validation."""
import asyncio
import socket

import pytest
import pytest_socket

from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant


async def test_hass_fixture(hass: HomeAssistant) -> None:
    assert HA_VERSION == "2026.10.4"
    assert hass.state is not None
    hass.states.async_set("sensor.x", "1")
    assert hass.states.get("sensor.x").state == "1"


async def test_loopback_tcp(socket_enabled: None) -> None:
    async def handle(reader, writer):
        writer.write((await reader.readline()).upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        await writer.drain()
        assert await reader.readline() == b"PING\n"
        writer.close()
        await writer.wait_closed()


def test_tcp_blocked_without_socket_enabled() -> None:
    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    pytest_socket.SocketBlockedError.instances.clear()  # HA's variant counts; verify_cleanup asserts none


def test_other_hosts_blocked_even_with_socket_enabled(socket_enabled: None) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with s, pytest.raises(pytest_socket.SocketConnectBlockedError):
        s.connect(("127.0.0.2", 9))  # refused by pytest-socket before any packet is sent
