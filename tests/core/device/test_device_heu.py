"""HEU: Paillier key at one party, encryption where the data lives, decryption at the owner."""

import numpy as np
import pytest

import core as sf
from core.errors import ConfigError, PartyError

HEU_CONFIG = {
    "sk_keeper": {"party": "alice"},
    "evaluators": [{"party": "bob"}],
    "he_parameters": {"schema": "paillier", "key_pair": {"generate": {"bit_size": 512}}},
}


@pytest.fixture
def heu(session):
    return sf.HEU(HEU_CONFIG)


def test_encrypt_add_multiply_and_decrypt_at_the_owner(heu):
    alice, bob = sf.PYU("alice"), sf.PYU("bob")
    grad = bob(lambda: np.array([0.5, -1.25, 3.0]))()
    enc = grad.to(heu)
    assert enc.location == "bob"
    weights = bob(lambda: np.array([2.0, 2.0, -1.0]))()
    combined = (enc + enc) * weights + 1.5
    sf.reset_link_stats()
    at_alice = combined.to(alice)
    assert at_alice.device == alice
    assert np.allclose(sf.reveal(at_alice), [3.5, -3.5, -4.5], atol=1e-6)
    assert sf.link_stats()["pairs"]["bob->alice"]["bytes"] > 3 * 128  # ciphertexts travelled


def test_decrypting_towards_an_evaluator_goes_through_the_owner(heu):
    x = sf.PYU("alice")(lambda: np.arange(3))().to(heu)
    moved = x.to(heu, party="bob")
    assert moved.location == "bob"
    total = moved.sum().to(sf.PYU("bob"))
    assert sf.reveal(total) == 3
    assert sf.reveal(moved).tolist() == [0, 1, 2]


def test_heu_errors_name_the_problem(heu):
    with pytest.raises(PartyError, match="carol"):
        sf.PYU("carol")(lambda: 1)().to(heu)
    a = sf.PYU("alice")(lambda: np.ones(2))().to(heu)
    b = sf.PYU("bob")(lambda: np.ones(2))().to(heu)
    with pytest.raises(PartyError, match="move one first"):
        a + b  # noqa: B018
    with pytest.raises(ConfigError, match="two ciphertexts"):
        a * a  # noqa: B018
    with pytest.raises(ConfigError, match="'bfv'"):
        sf.HEU({**HEU_CONFIG, "he_parameters": {"schema": "bfv"}})
