"""Traffic statistics per ordered party pair: bytes, messages and rounds.

A *round* is counted for a party each time it sends after having received since its previous
send (the send/receive alternation that latency is paid for), which matches how MPC papers
count communication rounds for a straight-line protocol.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class PairTraffic:
    bytes: int = 0
    messages: int = 0


@dataclass
class CommStats:
    """Thread-safe counters shared by every link of one session."""

    pairs: dict[tuple[str, str], PairTraffic] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_send(self, src: str, dst: str, nbytes: int, new_round: bool) -> None:
        with self._lock:
            traffic = self.pairs.setdefault((src, dst), PairTraffic())
            traffic.bytes += nbytes
            traffic.messages += 1
            if new_round:
                self.rounds[src] = self.rounds.get(src, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self.pairs.clear()
            self.rounds.clear()

    def sent_by(self, party: str) -> int:
        """Total bytes `party` sent to anyone."""
        with self._lock:
            return sum(t.bytes for (src, _), t in self.pairs.items() if src == party)

    def snapshot(self) -> dict:
        """A JSON-friendly copy: per pair bytes/messages, per party rounds and totals."""
        with self._lock:
            pairs = {
                f"{src}->{dst}": {"bytes": t.bytes, "messages": t.messages}
                for (src, dst), t in sorted(self.pairs.items())
            }
            sent: dict[str, int] = {}
            for (src, _), t in self.pairs.items():
                sent[src] = sent.get(src, 0) + t.bytes
            return {
                "pairs": pairs,
                "sent_bytes": dict(sorted(sent.items())),
                "rounds": dict(sorted(self.rounds.items())),
                "total_bytes": sum(sent.values()),
            }
