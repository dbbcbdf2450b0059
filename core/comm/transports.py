"""Which transport carries a deployment's network links.

Both implement `core.comm.network.Transport`'s interface and rules (handshake, FIFO with
sequence numbers, flow control, reconnection within a grace period, typed frames) and count
the same statistics; every party of a cluster must use the same one: a party on the other is
refused in the TLS handshake (ALPN: "privpad-link/1" against gRPC's "h2"), both sides naming
the peer and the setting (`LinkCause` "other_transport"). A console node sets it with
`PRIVPAD_LINK_TRANSPORT`.

- `"socket"` (the default): raw TCP connections under mutual TLS with Python's `ssl`
  (`core.comm.socket_transport`): frames are written from the sender's arrays and read into
  their final buffers. It spends about 30% less CPU per byte than gRPC (at the floor of a bare
  TLS socket), and on an idle 2-core machine every kernel was as fast or faster over it
  (SEMI2K mul 1e6 1.40-1.58x its in-memory time against 1.71-1.92x over gRPC;
  `benchmarks/README.md`, "Raw TLS sockets instead of gRPC"). On an oversubscribed machine its
  wall time suffers more than gRPC's (blocking sockets move in step with the peer).
- `"grpc"`: gRPC bidirectional streams (`core.comm.network`), 2 MiB chunks per message.
"""

from __future__ import annotations

from core.comm.network import Transport
from core.comm.socket_transport import SocketTransport
from core.errors import ConfigError

TRANSPORTS: dict[str, type[Transport]] = {kind.name: kind for kind in (SocketTransport, Transport)}
DEFAULT_TRANSPORT = "socket"


def transport_class(name: str | None = None) -> type[Transport]:
    """The transport called `name` (the default when None); ConfigError for an unknown name."""
    name = DEFAULT_TRANSPORT if name is None else name
    if name not in TRANSPORTS:
        raise ConfigError(f"unknown link transport {name!r}; choose one of {sorted(TRANSPORTS)}")
    return TRANSPORTS[name]
