"""pymodbus version differences, in one place (supported: 3.8.3 through 3.16.x).

* The unit keyword is ``slave=`` up to 3.9 and ``device_id=`` from 3.10, with
  no alias either way, so it is picked once by inspecting the installed
  signature rather than by parsing version numbers (HA may ship any of them).
* ``AsyncModbusTcpClient``'s constructor is identical across the range; we pass
  ``retries=0`` (one attempt: the timeout and any retry policy are ours) and
  ``reconnect_delay=0`` (no background reconnect task: we reconnect on the next
  request, under our lock, and re-check the meter's identity when we do).
* ``from pymodbus.pdu import ExceptionResponse`` works in every version of the
  range even though the class moved modules in 3.11.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import pymodbus
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

__all__ = [
    "PYMODBUS_VERSION",
    "UNIT_KEYWORD",
    "AsyncModbusTcpClient",
    "ConnectionException",
    "ExceptionResponse",
    "ModbusException",
    "ModbusIOException",
    "ModbusPDU",
    "connect",
    "new_tcp_client",
    "read_coils",
    "read_discrete_inputs",
    "read_holding_registers",
    "write_coil",
    "write_registers",
]

PYMODBUS_VERSION: Final[str] = str(pymodbus.__version__)


def _unit_keyword() -> str:
    params = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    for name in ("device_id", "slave"):
        if name in params:
            return name
    raise ImportError(f"pymodbus {PYMODBUS_VERSION}: no unit-id keyword in read_holding_registers")


UNIT_KEYWORD: Final[str] = _unit_keyword()

_Call = Callable[..., Awaitable[ModbusPDU]]


def new_tcp_client(
    host: str,
    port: int,
    *,
    timeout: float,
    trace_packet: Callable[[bool, bytes], bytes],
    trace_connect: Callable[[bool], None],
) -> AsyncModbusTcpClient:
    """A pymodbus TCP client that neither retries nor reconnects by itself."""
    return AsyncModbusTcpClient(
        host,
        port=port,
        timeout=timeout,
        retries=0,
        reconnect_delay=0,
        trace_packet=trace_packet,
        trace_connect=trace_connect,
    )


async def connect(client: AsyncModbusTcpClient) -> bool:
    """Open the TCP connection; True on success (pymodbus reports failure, it does not raise).

    ``AsyncModbusTcpClient.connect()`` before 3.16 sleeps 0.1 s after connecting
    (3.16: "fix(async): remove sleep in connect"). We reconnect after every fault
    and bound the connect by the request timeout, so that sleep would both slow
    recovery and make timeouts <= 0.1 s impossible; the transport-level connect
    it wraps (``client.ctx``, present from 3.8 to 3.16) is used when available.
    """
    ctx = getattr(client, "ctx", None)
    if ctx is not None and callable(getattr(ctx, "connect", None)):
        ctx.reset_delay()
        return bool(await ctx.connect())
    return bool(await client.connect())  # pragma: no cover - a pymodbus without .ctx


# The mixin methods are typed per version (``slave`` vs ``device_id``); calling them
# through ``_Call`` keeps one code path that mypy accepts against either signature.


async def read_holding_registers(
    client: AsyncModbusTcpClient, address: int, count: int, unit: int
) -> ModbusPDU:
    """FC03."""
    call: _Call = client.read_holding_registers
    return await call(address, count=count, **{UNIT_KEYWORD: unit})


async def read_coils(
    client: AsyncModbusTcpClient, address: int, count: int, unit: int
) -> ModbusPDU:
    """FC01."""
    call: _Call = client.read_coils
    return await call(address, count=count, **{UNIT_KEYWORD: unit})


async def read_discrete_inputs(
    client: AsyncModbusTcpClient, address: int, count: int, unit: int
) -> ModbusPDU:
    """FC02."""
    call: _Call = client.read_discrete_inputs
    return await call(address, count=count, **{UNIT_KEYWORD: unit})


async def write_coil(
    client: AsyncModbusTcpClient, address: int, value: bool, unit: int
) -> ModbusPDU:
    """FC05 (pymodbus sends FF00 / 0000)."""
    call: _Call = client.write_coil
    return await call(address, value, **{UNIT_KEYWORD: unit})


async def write_registers(
    client: AsyncModbusTcpClient, address: int, values: Sequence[int], unit: int
) -> ModbusPDU:
    """FC16 (3.8 wants a list, 3.16 any Sequence: a list satisfies both)."""
    call: _Call = client.write_registers
    return await call(address, list(values), **{UNIT_KEYWORD: unit})
