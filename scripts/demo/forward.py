"""Lets a browser on this machine reach the demo's Home Assistant, which lives in a network
namespace of its own.

    forward.py NAMESPACE LISTEN_PORT TARGET_PORT

Listens on 127.0.0.1:LISTEN_PORT of the host (the namespace's 127.0.0.1 is a different loopback,
invisible from outside), then moves this process into the namespace, so that every upstream
connection it opens goes to 127.0.0.1:TARGET_PORT there. Both ends are loopback addresses:
nothing leaves the machine, and Home Assistant itself stays inside the namespace, where its
mDNS/zeroconf multicast cannot reach a real network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def main(ns: str, listen_port: int, target_port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    # The listening socket is created while still in the host's namespace ...
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    # ... and every socket created after this call belongs to the demo's namespace
    # (setns applies to this thread; the event loop runs here and opens the upstream sockets).
    with open(f"/run/netns/{ns}") as fd:  # noqa: ASYNC230 - once, at start
        os.setns(fd.fileno(), os.CLONE_NEWNET)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    except OSError as err:  # port taken: the demo goes on without the host-side address
        print(f"forward: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
