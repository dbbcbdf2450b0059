"""What the parties of one device check at setup in a deployment: that they built the same one.

Each process builds its devices from its own copy of the program and configuration; a device
that differs at one party (another field, key owner, party list) would make the parties send
and expect different messages, failing later with an unrelated error or, worse, wrong numbers.
So at setup every party of the device sends the others a description of what it built (public
settings only, a small dict: a typed frame) and compares theirs with its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.comm import Link
from core.errors import ConfigError


def check_same_device(
    link: Link, mine: dict, device: str, peers: Sequence[int] | None = None
) -> None:
    """Exchange `mine` with `peers` (ranks on `link`; every other party by default).

    Raises ConfigError naming the first setting that differs, its two values and the peer,
    e.g. "SPU setup: field is 'FM64' at 'alice' but 'FM128' at 'bob'; every party must build
    the same SPU".
    """
    others = [p for p in range(link.world_size) if p != link.rank] if peers is None else peers
    for peer in others:
        link.send(peer, mine)
    for peer in others:
        theirs = link.recv(peer)
        if not isinstance(theirs, dict):
            raise ConfigError(f"{link.parties[peer]!r} sent no {device} description at setup")
        for key, value in mine.items():
            if theirs.get(key) != value:
                raise ConfigError(
                    f"{device} setup: {key} is {value!r} at {link.party!r} but "
                    f"{theirs.get(key)!r} at {link.parties[peer]!r}; every party must build "
                    f"the same {device}"
                )
