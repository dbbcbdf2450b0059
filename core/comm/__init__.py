"""Communication between parties: the `Link` interface, its in-memory and network
implementations, typed frames, traffic statistics and the SPMD party runner."""

from core.comm.link import Link, LocalLink, LocalLinkHub, payload_size
from core.comm.runner import run_spmd
from core.comm.stats import CommStats

__all__ = ["CommStats", "Link", "LocalLink", "LocalLinkHub", "payload_size", "run_spmd"]
