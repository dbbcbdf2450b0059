"""Which PSI protocol to run by default, from the set sizes and the party count.

KKRT-PSI (`core.psi.kkrt`) is several times faster than ECDH-PSI but runs between exactly two
parties and keeps about `KKRT_BYTES_PER_KEY` bytes per key of each party in memory; ECDH-PSI
(`core.psi.protocol`) runs between any number of parties and streams with bounded memory. So:
KKRT for two parties while its estimated memory fits in `MEMORY_SHARE` of the memory available
now, ECDH otherwise. Both reveal the same things (the intersection and the set sizes), so the
choice changes speed and memory, never what a party learns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

KKRT_BYTES_PER_KEY = 100
# Row ids, the aligned output pass and the OT-extension chunks come on top of the per-key state.
KKRT_OVERHEAD = 3
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class ProtocolChoice:
    """The protocol, the reason as an English sentence, and the figures the reason cites (for
    callers that word it themselves, e.g. in the reader's language): KKRT's estimated memory
    and the memory available, in bytes (0 when the party count alone decided)."""

    protocol: str  # "kkrt" or "ecdh", as `run_local_psi` names them
    reason: str
    need: int = 0
    memory: int = 0


def available_memory() -> int:
    """Bytes of memory available to new work now (Linux `MemAvailable`, else free pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def choose_protocol(set_sizes: Sequence[int], memory: int | None = None) -> ProtocolChoice:
    """The protocol for parties holding `set_sizes` keys, with `memory` bytes available
    (default: measured now); the reason is a sentence for the run's log."""
    if len(set_sizes) != 2:
        return ProtocolChoice(
            "ecdh", f"ECDH-PSI: {len(set_sizes)} parties (KKRT-PSI runs between two only)"
        )
    memory = available_memory() if memory is None else memory
    need = KKRT_BYTES_PER_KEY * KKRT_OVERHEAD * sum(set_sizes)
    sizes = " x ".join(f"{size:,}" for size in set_sizes)
    if need > MEMORY_SHARE * memory:
        return ProtocolChoice(
            "ecdh",
            f"ECDH-PSI: KKRT-PSI on {sizes} keys would need about {mib(need)} MiB, more than "
            f"{MEMORY_SHARE:.0%} of the {mib(memory)} MiB available; ECDH-PSI streams in "
            "bounded memory",
            need,
            memory,
        )
    return ProtocolChoice(
        "kkrt",
        f"KKRT-PSI: two parties with {sizes} keys; about {mib(need)} MiB of the "
        f"{mib(memory)} MiB available",
        need,
        memory,
    )


def mib(size: int) -> int:
    """Bytes as whole MiB (at least 1), as the reasons cite them."""
    return max(1, round(size / 2**20))
