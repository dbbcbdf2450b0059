"""Paillier homomorphic encryption for the HEU device (gmpy2 arithmetic, no Django).

- `generate_keypair(bits=2048)` -> (`PublicKey`, `PrivateKey`) (`core.he.keygen`); scheme,
  security assumption and references are in `core.he.keys`.
- `PublicKey.encrypt_array(x)` -> `CiphertextArray` (shape kept, ints exact, floats in fixed
  point, `core.he.encoding`); `PrivateKey.decrypt_array(ct)` -> `np.ndarray`. The key holder
  can encrypt with `PrivateKey.encrypt_array(x)`: same ciphertext distribution, faster (CRT).
- `CiphertextArray` supports `+`, `-`, `*` (plaintext), `sum`, `dot`, `concatenate`, `rerandomize`,
  `to_bytes` / `from_bytes` (`core.he.ciphertext`, `core.he.linear`).
- Packing several values per ciphertext: `pack_encrypt`, `PackedCiphertext`, `unpack_decrypt`
  (`core.he.packing`).
- Big batches run on a shared process pool (`core.he.parallel`).
"""

from core.he.ciphertext import CiphertextArray
from core.he.encoding import DEFAULT_FRACTION_BITS
from core.he.keygen import DEFAULT_KEY_BITS, MIN_KEY_BITS, generate_keypair
from core.he.keys import KeyMismatchError, PrivateKey, PublicKey
from core.he.packing import PackedCiphertext, SlotLayout, pack_encrypt, unpack_decrypt

__all__ = [
    "DEFAULT_FRACTION_BITS",
    "DEFAULT_KEY_BITS",
    "MIN_KEY_BITS",
    "CiphertextArray",
    "KeyMismatchError",
    "PackedCiphertext",
    "PrivateKey",
    "PublicKey",
    "SlotLayout",
    "generate_keypair",
    "pack_encrypt",
    "unpack_decrypt",
]
