"""Communication between parties: links, traffic statistics and the SPMD party runner."""

from core.comm.link import Link, LocalLinkHub, payload_size
from core.comm.runner import run_spmd
from core.comm.stats import CommStats

__all__ = ["CommStats", "Link", "LocalLinkHub", "payload_size", "run_spmd"]
