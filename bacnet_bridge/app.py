"""Process wiring: configuration -> PointTable -> Home Assistant client -> views.

Everything runs in one asyncio event loop (no threads): the Home Assistant
client, the BACnet device (bacpypes3), and the SNMP agent and Node-RED API when
their packages are present and enabled. A view that fails to start stops the
bridge with a clear error rather than running half-configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol

from .config import Config
from .ha_client import HomeAssistantClient
from .model import PointTable

_LOGGER = logging.getLogger(__name__)


class Closeable(Protocol):
    """What every view's start function returns."""

    async def close(self) -> None:
        """Stop serving and release sockets and tasks."""


type ViewStarter = Callable[[Config, PointTable], Awaitable[Closeable]]


def _optional_view(module: str, function: str) -> ViewStarter | None:
    """A sibling package's start function, or None while that package does not exist."""
    name = f"{__package__}.{module}"
    if importlib.util.find_spec(name) is None:
        return None
    starter: ViewStarter | None = getattr(importlib.import_module(name), function, None)
    return starter


class Bridge:
    """One bridge process's parts; ``start()`` then ``close()``."""

    def __init__(self, config: Config, *, ha_backoff: tuple[float, float] = (1.0, 30.0)) -> None:
        """Build the table and the Home Assistant client; nothing binds yet."""
        self.config = config
        self.table = PointTable()
        self.ha = HomeAssistantClient(
            config, self.table, min_backoff=ha_backoff[0], max_backoff=ha_backoff[1]
        )
        self.views: dict[str, Closeable] = {}
        self._started = False

    @property
    def bacnet(self) -> Closeable | None:
        """The BACnet device view, when enabled."""
        return self.views.get("bacnet")

    async def start(self) -> None:
        """Bind every enabled view, then connect to Home Assistant in the background.

        The views come up first (empty), so a BMS sees the device at once and its objects
        as soon as Home Assistant answers; on any failure whatever started is closed again.
        """
        self._started = True
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        _LOGGER.info("starting the AcuRev bridge with %s", config.redacted())
        try:
            if config.bacnet.enabled:
                from .bacnet import start_bacnet

                self.views["bacnet"] = await start_bacnet(config, self.table)
            for name, module, function, enabled in (
                ("snmp", "snmp", "start_snmp", config.snmp.enabled),
                ("api", "api", "start_api", config.api.enabled),
            ):
                if not enabled:
                    continue
                starter = _optional_view(module, function)
                if starter is None:
                    _LOGGER.warning(
                        "%s is enabled but bacnet_bridge.%s is not installed", name, module
                    )
                    continue
                self.views[name] = await starter(config, self.table)
            await self.ha.start()
        except BaseException:
            await self.close()
            raise

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the table mirrors Home Assistant (first sync or after a reconnect)."""
        await self.ha.wait_synced(timeout)

    async def close(self) -> None:
        """Stop everything in reverse order; safe to call twice."""
        if not self._started:
            return
        self._started = False
        await self.ha.close()
        for name, view in reversed(list(self.views.items())):
            try:
                await view.close()
            except Exception:
                _LOGGER.exception("closing the %s view failed", name)
        self.views.clear()


async def run(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run the bridge until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    bridge = Bridge(config)
    try:
        await bridge.start()
        await stop.wait()
        _LOGGER.info("stopping the AcuRev bridge")
    finally:
        await bridge.close()
        for sig in installed:
            loop.remove_signal_handler(sig)
