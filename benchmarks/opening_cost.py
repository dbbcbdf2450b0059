"""What moving one opening costs: over the engine's link, bare gRPC and a bare TLS socket.

All three run inside the party processes of `benchmarks/network.py` (`--only floor`), two parties
exchanging `words` uint64 words each way at once, as a SEMI2K multiplication's opening does
(`mul` 1e6: two 8 MB arrays per party):

- `link_exchange`: `link.send(peer, [x, y])` then `link.recv(peer)` over the `NetworkLink`
  (typed frames, sequence numbers, acknowledgements, flow control) of the transport the party
  processes run (`benchmarks/network.py --transport`: raw TLS sockets by default, or gRPC).
- `grpc_floor`: the same bytes as ready-made messages of `CHUNK_BYTES` on a bare gRPC stream
  between the same processes, with the same mutual TLS and channel options, and no framing at
  all: the least any link built on grpcio could spend. What the link spends beyond it is the
  engine's own overhead; the floor itself (gRPC's copies, TLS, HTTP/2, the kernel's loopback)
  bounds how close a kernel can come to its in-memory time.
- `tls_socket_floor`: the same bytes over a bare TCP socket under mutual TLS (Python's `ssl`,
  TLS 1.3, the same certificates), sent straight from the array and received straight into a
  numpy buffer: no HTTP/2, no gRPC, no copy but the kernel's and the cipher's. What gRPC's
  floor spends beyond it is gRPC's; what remains (TLS and the kernel's loopback) is a floor
  for any transport that encrypts.

Each reports the median and best wall seconds per exchange and this process's median CPU
seconds per exchange (every thread: gRPC's too). On a loaded machine trust the CPU: the wall
time of the bare socket, one blocking `sendall` in a thread against `recv_into`, suffers most
from waiting for a core.
"""

from __future__ import annotations

import queue
import socket
import ssl
import threading
import time
from concurrent import futures

import grpc
import numpy as np

from core.comm.wire import CHUNK_BYTES, GRPC_OPTIONS

SERVICE_PATH = "/privpad.bench.Floor/Exchange"


def link_exchange(link, words: int, repeat: int) -> dict:
    """Median seconds and CPU seconds per `[x, y]` exchange of `words` words with the peer."""
    peer = 1 - link.rank
    arrays = [np.arange(words // 2, dtype=np.uint64) + link.rank for _ in range(2)]
    runs = []
    for i in range(repeat + 1):
        link.send(peer, np.zeros(1, np.uint8))
        link.recv(peer)
        start, cpu0 = time.perf_counter(), time.process_time()
        link.send(peer, arrays)
        got = link.recv(peer)
        if i:  # the first exchange warms the stream up
            runs.append((time.perf_counter() - start, time.process_time() - cpu0))
        assert sum(a.size for a in got) == words
    return _summary(runs)


def grpc_floor(me: str, peer: str, addresses: dict, tls, words: int, repeat: int, barrier) -> dict:
    """The same exchange as `link_exchange` as bare gRPC messages (see the module docstring);
    `barrier()` holds both parties until both have read everything, before the stream ends."""
    total = words * 8
    messages = [bytes(min(CHUNK_BYTES, total - at)) for at in range(0, total, CHUNK_BYTES)]
    sink = _Sink()
    server = _serve(addresses[me], tls, sink)
    outbox: queue.Queue = queue.Queue()
    channel = _channel(addresses[peer], peer, tls)
    grpc.channel_ready_future(channel).result(timeout=60)
    call = channel.stream_stream(SERVICE_PATH)(iter(outbox.get, None))
    drain = threading.Thread(target=_drain, args=(call,), daemon=True)
    drain.start()
    runs = []
    try:
        for i in range(repeat + 1):
            start, cpu0 = time.perf_counter(), time.process_time()
            for message in messages:
                outbox.put(message)
            sink.wait_for(total * (i + 1))
            if i:
                runs.append((time.perf_counter() - start, time.process_time() - cpu0))
        barrier()
    finally:
        outbox.put(None)
        drain.join(timeout=10)
        channel.close()
        server.stop(grace=1.0).wait(timeout=5)
    return _summary(runs)


def _drain(call) -> None:
    """Read the (empty) reply stream until the call ends, however it ends."""
    try:
        for _ in call:
            pass
    except grpc.RpcError:
        pass


def tls_socket_floor(
    me: str, peer: str, addresses: dict, tls_spec: dict, words: int, repeat: int, barrier
) -> dict:
    """The same exchange as `link_exchange` over bare mutual-TLS sockets (module docstring).

    `barrier()` (over the link) holds both parties until both have read everything: a socket
    closed with unread bytes (TLS session tickets) resets the connection, which could cut off
    the peer's last exchange.
    """
    total = words * 8
    data = memoryview(np.arange(words, dtype=np.uint64)).cast("B")
    inbox = memoryview(np.empty(total, np.uint8))
    outgoing, incoming = _tls_pair(me, peer, addresses, tls_spec)
    runs = []
    try:
        for i in range(repeat + 1):
            start, cpu0 = time.perf_counter(), time.process_time()
            sender = threading.Thread(target=outgoing.sendall, args=(data,))
            sender.start()
            got = 0
            while got < total:
                count = incoming.recv_into(inbox[got:], total - got)
                if not count:
                    raise ConnectionError(
                        f"{peer!r} closed the socket after {got} of {total} bytes"
                    )
                got += count
            sender.join()
            if i:
                runs.append((time.perf_counter() - start, time.process_time() - cpu0))
        barrier()
    finally:
        outgoing.close()
        incoming.close()
    return _summary(runs)


def _tls_pair(me: str, peer: str, addresses: dict, tls_spec: dict):
    """(socket to the peer's listener, socket from the peer's dial), both mutual TLS."""
    listener = socket.create_server(_split(addresses[me]))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for context in (server, client):
        context.load_cert_chain(tls_spec["cert"], tls_spec["key"])
        context.load_verify_locations(tls_spec["peers"][peer])  # the peer's pinned certificate
    server.verify_mode = ssl.CERT_REQUIRED
    accepted: dict = {}

    def accept():
        conn, _ = listener.accept()
        accepted["socket"] = server.wrap_socket(conn, server_side=True)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    deadline = time.monotonic() + 60
    while True:
        try:
            raw = socket.create_connection(_split(addresses[peer]))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    outgoing = client.wrap_socket(raw, server_hostname=peer)
    acceptor.join(timeout=60)
    listener.close()
    return outgoing, accepted["socket"]


def _split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


class _Sink:
    """The server side: counts the bytes the peer streamed in."""

    def __init__(self):
        self.received, self.cond = 0, threading.Condition()

    def handle(self, requests, context):
        for message in requests:
            with self.cond:
                self.received += len(message)
                self.cond.notify_all()
        return iter(())

    def wait_for(self, count: int) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.received >= count, timeout=120):
                raise TimeoutError(f"received {self.received} of {count} bytes")


def _serve(address: str, tls, sink: _Sink) -> grpc.Server:
    service, method = SERVICE_PATH.strip("/").split("/")
    handler = grpc.method_handlers_generic_handler(
        service, {method: grpc.stream_stream_rpc_method_handler(sink.handle)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(4), handlers=[handler], options=GRPC_OPTIONS)
    creds = grpc.ssl_server_credentials(
        [(tls.key, tls.cert)], root_certificates=tls.all_roots(), require_client_auth=True
    )
    server.add_secure_port(address, creds)
    server.start()
    return server


def _channel(address: str, peer: str, tls) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(
        root_certificates=tls.roots_for(peer), private_key=tls.key, certificate_chain=tls.cert
    )
    options = [*GRPC_OPTIONS, ("grpc.ssl_target_name_override", peer)]
    return grpc.secure_channel(address, creds, options=options)


def _summary(runs: list[tuple[float, float]]) -> dict:
    middle = sorted(runs)[len(runs) // 2]
    return {
        "seconds": round(middle[0], 4),
        "best_seconds": round(min(r[0] for r in runs), 4),
        "cpu_seconds": round(sorted(r[1] for r in runs)[len(runs) // 2], 4),
    }
