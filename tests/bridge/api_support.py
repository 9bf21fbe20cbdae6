"""Helpers for the API tests: a websocket client that follows the protocol of docs/NODE-RED.md,
and the fixtures of a real stack (Home Assistant + simulator + bridge with the API on)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from bacnet_bridge.api import ApiServer
from bacnet_bridge.config import Config

if TYPE_CHECKING:
    from bacnet_bridge.app import Bridge

    from .conftest import HAMeter

TOKEN = "test-token-0123456789abcdef"
WAIT = 5.0  # s: longest wait for one expected message


def auth(token: str = TOKEN) -> dict[str, str]:
    """The Authorization header."""
    return {"Authorization": f"Bearer {token}"}


class StreamClient:
    """One websocket subscription; remembers the last seq and stream id like the palette does."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.stream: str | None = None
        self.last_seq: int | None = None
        self.subscribed: dict[str, Any] = {}
        self.received: list[dict[str, Any]] = []

    async def connect(
        self, *, since: int | str | None = "resume", token: str = TOKEN, header: bool = False
    ) -> dict[str, Any]:
        """Open and subscribe (``since="resume"``: from the last seq seen, like a reconnect)."""
        headers = auth(token) if header else {}
        self.ws = await self.session.ws_connect(f"{self.base_url}/api/v1/stream", headers=headers)
        hello: dict[str, Any] = {"type": "subscribe"}
        if not header:
            hello["token"] = token
        hello["since"] = self.last_seq if since == "resume" else since
        if self.stream is not None:
            hello["stream"] = self.stream
        await self.ws.send_str(json.dumps(hello))
        first = await self.next_raw()
        if first.get("type") == "subscribed":
            self.subscribed = first
            self.stream = first["stream"]
            if self.last_seq is None:
                self.last_seq = first["seq"]
        return first

    async def next_raw(self, wait: float = WAIT) -> dict[str, Any]:
        """The next message, whatever it is."""
        assert self.ws is not None
        msg = await self.ws.receive(timeout=wait)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"websocket ended: {msg.type} {msg.data} {msg.extra}")
        data: dict[str, Any] = json.loads(msg.data)
        if "seq" in data and data.get("type") not in ("subscribed", "pong"):
            self.last_seq = data["seq"]
            self.received.append(data)
        return data

    async def wait_for(self, pred: Any, wait: float = WAIT) -> dict[str, Any]:
        """The first message matching ``pred``."""
        async with asyncio.timeout(wait):
            while True:
                data = await self.next_raw(wait)
                if pred(data):
                    return data

    async def drain(self, quiet: float = 0.2) -> list[dict[str, Any]]:
        """Everything that arrives until the stream is quiet for ``quiet`` s."""
        out: list[dict[str, Any]] = []
        while True:
            try:
                out.append(await self.next_raw(quiet))
            except TimeoutError:
                return out

    async def drop(self) -> None:
        """Lose the connection (as a network failure or a Node-RED redeploy would)."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


# --- the real stack --------------------------------------------------------------------------


@dataclass
class Stack:
    meter: HAMeter
    bridge: Bridge
    api: ApiServer
    session: aiohttp.ClientSession

    @property
    def serial(self) -> str:
        return self.meter.serial

    async def get(self, path: str, token: str | None = TOKEN) -> tuple[int, Any]:
        headers = auth(token) if token is not None else {}
        async with self.session.get(f"{self.api.url}/api/v1{path}", headers=headers) as resp:
            return resp.status, await resp.json()

    async def post(self, path: str, body: Any, token: str | None = TOKEN) -> tuple[int, Any]:
        headers = auth(token) if token is not None else {}
        async with self.session.post(
            f"{self.api.url}/api/v1{path}", json=body, headers=headers
        ) as resp:
            return resp.status, await resp.json()

    def stream(self) -> StreamClient:
        return StreamClient(self.session, self.api.url)


@pytest.fixture
def api_config(make_config, tmp_path: Path) -> Config:
    """The bridge's configuration with the API on (token from a file, as a user would)."""
    token_file = tmp_path / "api-token"
    token_file.write_text(TOKEN + "\n")
    config: Config = make_config(
        bacnet={"enabled": False}, api={"enabled": True, "token_file": str(token_file)}
    )
    return config


@pytest.fixture
async def stack(meter: HAMeter, api_config: Config, start_bridge) -> AsyncIterator[Stack]:
    bridge = await start_bridge(api_config)
    api = bridge.views["api"]
    assert isinstance(api, ApiServer)
    async with aiohttp.ClientSession() as session:
        yield Stack(meter, bridge, api, session)
