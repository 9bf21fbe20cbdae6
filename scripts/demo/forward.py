"""Lets programs on this machine reach a server of the demo, which lives in a network
namespace of its own.

    forward.py NAMESPACE LISTEN_PORT TARGET_PORT [tcp|udp]

Listens on 127.0.0.1:LISTEN_PORT of the host (the namespace's 127.0.0.1 is a different loopback,
invisible from outside), then moves this process into the namespace, so that every upstream
socket it opens goes to 127.0.0.1:TARGET_PORT there. Both ends are loopback addresses: nothing
leaves the machine, and the servers themselves stay inside the namespace, where Home
Assistant's mDNS multicast and BACnet's broadcasts cannot reach a real network.

tcp (the default): one upstream connection per accepted connection (HTTP and websockets: Home
Assistant, Node-RED, the bridge's API).

udp: request/response datagrams (SNMP). Each host-side client address gets its own upstream
socket, so the answers find their way back; one idle for UDP_IDLE_S is dropped. The server sees
every request coming from this relay, never from the real client: fine for SNMP, whose agent only
answers, but not for BACnet/IP, whose devices reach each other by address (I-Am broadcasts,
COV notifications to a subscriber's address) and whose tools usually want port 47808 themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time

HOST = "127.0.0.1"
UDP_IDLE_S = 120.0
UDP_MAX_PEERS = 256  # bounded: an idle or misbehaving client cannot grow this without limit


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


def enter_namespace(ns: str) -> None:
    """From here on, every socket this thread creates belongs to the demo's namespace (setns
    applies to the calling thread; the event loop runs here and opens the upstream sockets)."""
    with open(f"/run/netns/{ns}") as fd:
        os.setns(fd.fileno(), os.CLONE_NEWNET)


def listening(proto: str, ns: str, listen_port: int, target_port: int) -> None:
    """The line scripts/demo.sh waits for: the port is ours (or the process exits with 2)."""
    print(
        f"forward: listening on {proto} {HOST}:{listen_port} -> {HOST}:{target_port} in "
        f"namespace {ns}",
        flush=True,
    )


async def forward_tcp(ns: str, listen_port: int, target_port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    # The listening socket is created while still in the host's namespace ...
    server = await asyncio.start_server(handle, HOST, listen_port)
    enter_namespace(ns)  # ... the upstream connections inside the demo's
    listening("tcp", ns, listen_port, target_port)
    async with server:
        await server.serve_forever()


class UdpRelay(asyncio.DatagramProtocol):
    """The host-side socket; one connected upstream socket per client address."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.transport: asyncio.DatagramTransport | None = None
        self.peers: dict[tuple[str, int], tuple[socket.socket, float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        entry = self.peers.get(addr)
        if entry is None:
            if len(self.peers) >= UDP_MAX_PEERS:
                self.expire(0)  # drop the least recently used one
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # in the namespace by now
            up.setblocking(False)
            up.connect((HOST, self.target_port))
            asyncio.get_running_loop().add_reader(up, self.answer, up, addr)
        else:
            up = entry[0]
        self.peers[addr] = (up, time.monotonic())
        with contextlib.suppress(OSError):  # UDP: a datagram that cannot go is lost, as on a wire
            up.send(data)

    def answer(self, up: socket.socket, addr: tuple[str, int]) -> None:
        try:
            data = up.recv(65535)
        except BlockingIOError:
            return
        except OSError:  # e.g. ICMP port unreachable while the server is not up yet
            return
        if self.transport is not None:
            self.transport.sendto(data, addr)

    def expire(self, idle_s: float) -> None:
        """Close upstream sockets idle for idle_s or more (0: only the oldest one)."""
        if not self.peers:
            return
        now = time.monotonic()
        if idle_s > 0:
            stale = [a for a, (_, seen) in self.peers.items() if now - seen >= idle_s]
        else:
            stale = [min(self.peers, key=lambda a: self.peers[a][1])]
        loop = asyncio.get_running_loop()
        for addr in stale:
            up, _ = self.peers.pop(addr)
            loop.remove_reader(up)
            up.close()


async def forward_udp(ns: str, listen_port: int, target_port: int) -> None:
    loop = asyncio.get_running_loop()
    # Bound on the host's loopback before moving into the namespace, like the TCP listener.
    transport, relay = await loop.create_datagram_endpoint(
        lambda: UdpRelay(target_port), local_addr=(HOST, listen_port)
    )
    enter_namespace(ns)
    listening("udp", ns, listen_port, target_port)
    try:
        while True:
            await asyncio.sleep(UDP_IDLE_S / 4)
            relay.expire(UDP_IDLE_S)
    finally:
        transport.close()


if __name__ == "__main__":
    proto = sys.argv[4] if len(sys.argv) > 4 else "tcp"
    forward = {"tcp": forward_tcp, "udp": forward_udp}.get(proto)
    if len(sys.argv) not in (4, 5) or forward is None:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(forward(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    except OSError as err:  # port taken: the demo goes on without the host-side address
        print(f"forward: {proto} {HOST}:{sys.argv[2]}: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
