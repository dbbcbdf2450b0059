"""A user-space WAN emulator: a TCP relay that delays and rate-limits each direction.

These machines' kernel has network namespaces and veth pairs but no `netem` qdisc, so the WAN is
emulated between the parties instead: `Relay(target, rate_mbit=100, rtt_ms=20)` listens on a
loopback port and forwards every connection to `target`, each direction through its own
bottleneck: a byte stream is serialised at `rate_mbit` (a chunk leaves once the previous one
has, `size / rate` later) and arrives `rtt_ms / 2` after leaving. TLS passes through untouched.

Point a party's peers at the relay of that party (its address in *their* cluster_config), keep
the party's own address real, and every link to it crosses the emulated WAN. Used by
`benchmarks/network.py`; tests reuse it (`with Relay(...) as relay: relay.address`, and
`relay.cut()` to reset every open connection, as a network failure would).

    .venv/bin/python benchmarks/wan_relay.py --listen 127.0.0.1:9201 --target 127.0.0.1:9101
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time

READ_BYTES = 1 << 16


class _Bottleneck:
    """One direction of the emulated link: serialisation at `rate` then a fixed delay."""

    def __init__(self, rate_bytes_s: float, delay_s: float):
        self.rate, self.delay = rate_bytes_s, delay_s
        self.free_at = 0.0
        self.bytes = 0

    def arrival(self, size: int) -> float:
        now = time.monotonic()
        self.free_at = max(now, self.free_at) + size / self.rate
        self.bytes += size
        return self.free_at + self.delay


class Relay:
    """Forward `listen` -> `target` through two `_Bottleneck`s, in a background event loop."""

    def __init__(self, target: str, rate_mbit: float = 100.0, rtt_ms: float = 20.0, port: int = 0):
        self.target_host, target_port = target.rsplit(":", 1)
        self.target_port = int(target_port)
        self.rate = rate_mbit * 1e6 / 8
        self.delay = rtt_ms / 2000
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wan-relay", daemon=True)
        self.directions: list[_Bottleneck] = []
        self._connections: list = []
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Relay:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc) -> None:
        """Close the listener and every connection (redials are refused), then the loop; a
        second call does nothing."""
        if not self._thread.is_alive():
            return
        done = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            done.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _shutdown(self) -> None:
        """End every task of the loop, so that none is left pending when it closes."""
        self._server.close()
        for writer, up_writer in self._connections:
            writer.transport.abort()
            up_writer.transport.abort()
        self._connections.clear()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def open_connections(self) -> int:
        """How many connections are being relayed now."""
        return len(self._connections)

    def cut(self) -> int:
        """Reset every connection open now (new ones are still accepted); how many were cut."""
        done = threading.Event()
        count = len(self._connections)

        def reset():
            for writer, up_writer in self._connections:
                writer.transport.abort()
                up_writer.transport.abort()
            self._connections.clear()
            done.set()

        self._loop.call_soon_threadsafe(reset)
        done.wait(timeout=5)
        return count

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _accept(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        forward, backward = _Bottleneck(self.rate, self.delay), _Bottleneck(self.rate, self.delay)
        self.directions += [forward, backward]
        self._connections.append((writer, up_writer))
        await asyncio.gather(_pump(reader, up_writer, forward), _pump(up_reader, writer, backward))


async def _pump(reader, writer, link: _Bottleneck) -> None:
    """Read as data comes, deliver each chunk at its emulated arrival time, in order."""
    pending: asyncio.Queue = asyncio.Queue()

    async def deliver():
        while True:
            item = await pending.get()
            if item is None:
                break
            at, data = item
            wait = at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                break  # the other end went away (or the connection was cut)
        writer.close()

    sender = asyncio.ensure_future(deliver())
    try:
        while data := await reader.read(READ_BYTES):
            await pending.put((link.arrival(len(data)), data))
            # Keep at most ~0.25 s of backlog: beyond it, stop reading so TCP pushes back.
            while link.free_at - time.monotonic() > 0.25:
                await asyncio.sleep(0.01)
    except (ConnectionError, OSError):
        pass
    await pending.put(None)
    await sender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port to listen on")
    parser.add_argument("--target", required=True, help="host:port to forward to")
    parser.add_argument("--rate-mbit", type=float, default=100.0)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    args = parser.parse_args()
    relay = Relay(args.target, args.rate_mbit, args.rtt_ms, int(args.listen.rsplit(":", 1)[1]))
    with relay:
        print(f"relaying {relay.address} -> {args.target}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
