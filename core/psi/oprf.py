"""KKRT batched OPRF: IKNP-style OT extension to 1-out-of-N OT with a pseudorandom code.

Scheme (Kolesnikov, Kumaresan, Rosulek and Trieu, "Efficient Batched Oblivious PRF with
Applications to Private Set Intersection", CCS 2016, figure 2; built on Ishai, Kilian, Nissim
and Petrank, CRYPTO 2003). Parties: the OPRF *receiver* holds one input r_j per instance
(bin) j; the OPRF *sender* ends with a key that lets it evaluate F(j, x) on any x. Code width
k = 512 (`kkrt_hashing.CODE_BITS`); C is the pseudorandom code.

1. k base OTs with the roles reversed: the OPRF receiver acts as OT sender with seed pairs
   (k0_i, k1_i); the OPRF sender picks secret bits s (k of them) and receives k_{s_i, i}.
2. Per chunk of instances, the receiver expands column i of T0 and T1 from k0_i and k1_i
   (`bitmatrix.prg_columns`) and sends u_i = t0_i ^ t1_i ^ c_i, where c_i is column i of the
   matrix whose row j is C(r_j).
3. The sender expands its seeds to t_{s_i, i} and sets q_i = t_{s_i, i} ^ (s_i * u_i)
   = t0_i ^ (s_i * c_i). In rows: q_j = t0_j ^ (C(r_j) & s).
4. F(j, x) = H(j, q_j ^ (C(x) & s)) at the sender; the receiver's output is H(j, t0_j), equal to
   F(j, r_j). For x != r_j, q_j ^ (C(x) & s) = t0_j ^ ((C(r_j) ^ C(x)) & s), hiding at least 128
   unknown bits of s (the codeword distance), so F(j, x) is pseudorandom to the receiver when
   H is correlation robust (modelled as a random oracle).

Security (semi-honest): the sender sees only u, and each column u_i is masked by the one PRG
stream it cannot compute (t1_i if s_i = 0, t0_i if s_i = 1), so u is pseudorandom whatever the
receiver's inputs; `test_kkrt_privacy` checks this. Each instance j must be used for one
receiver input only, and the receiver's inputs must be fixed before u is sent.
"""

from __future__ import annotations

import numpy as np

from core.psi.bitmatrix import prg_columns, transpose
from core.psi.kkrt_hashing import CODE_BITS


class OprfReceiver:
    """Receiver side of the extension, from the base-OT seed pairs it sent."""

    def __init__(self, seed_pairs: list[tuple[bytes, bytes]]):
        if len(seed_pairs) != CODE_BITS:
            raise ValueError(f"need {CODE_BITS} base-OT seed pairs, got {len(seed_pairs)}")
        self._seeds0 = [pair[0] for pair in seed_pairs]
        self._seeds1 = [pair[1] for pair in seed_pairs]

    def chunk(self, index: int, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For a chunk of instances whose inputs have codewords `codes` (M, 64), M % 8 == 0.

        Returns (u, t0): u (512, M/8) is the message for the sender; t0 (M, 64) holds the
        rows T0_j from which the receiver's outputs H(j, T0_j) are computed.
        """
        width = len(codes) // 8
        t0 = prg_columns(self._seeds0, index, width)
        u = prg_columns(self._seeds1, index, width)
        u ^= t0
        u ^= transpose(codes)
        return u, transpose(t0)


class OprfSender:
    """Sender side of the extension, from its secret bits s and the seeds it chose."""

    def __init__(self, choices: np.ndarray, seeds: list[bytes]):
        if len(choices) != CODE_BITS or len(seeds) != CODE_BITS:
            raise ValueError(f"need {CODE_BITS} choice bits and seeds")
        self._choices = np.asarray(choices, dtype=bool)
        self._seeds = list(seeds)
        # s packed like a codeword row, so that (C(x) & s) is one byte-wise AND.
        self.s_row = np.packbits(self._choices, bitorder="little")

    def chunk(self, index: int, u: np.ndarray) -> np.ndarray:
        """Rows q_j (M, 64) of the chunk from the receiver's message u (512, M/8)."""
        q = prg_columns(self._seeds, index, u.shape[1])
        q[self._choices] ^= u[self._choices]
        return transpose(q)

    def masked(self, q_rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """q_j ^ (C(x) & s) for aligned rows of q and codewords C(x)."""
        return q_rows ^ (codes & self.s_row)
