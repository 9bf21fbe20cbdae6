"""BACnet/IP view of the bridge (bacpypes3, in the bridge's event loop)."""

from __future__ import annotations

from .device import BacnetDevice, start_bacnet

__all__ = ["BacnetDevice", "start_bacnet"]
