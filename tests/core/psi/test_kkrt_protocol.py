"""KKRT-PSI end to end, checked against Python set intersection (no process pool needed)."""

import threading

import numpy as np
import pandas as pd
import pytest
from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp

from core.comm import LocalLinkHub, run_spmd
from core.errors import ConfigError, LinkError, PartyFailure
from core.psi import cuckoo, kkrt_psi, run_local_psi
from core.psi.base_ot import random_scalar
from core.psi.errors import DuplicateKeyError, EmptyIntersectionError, PsiCancelled


def kkrt(pool, inputs, keys=(None, None), **options):
    return run_local_psi(list(inputs), list(keys), protocol="kkrt", pool=pool, **options)


def random_ids(rng, universe: int, size: int) -> list[str]:
    return [f"id{i}" for i in rng.choice(universe, size=size, replace=False)]


def aligned_keys(sets, results):
    return [[values[i] for i in result.rows] for values, result in zip(sets, results, strict=True)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_matches_set_intersection_and_aligns_both_parties(psi_pool, seed):
    rng = np.random.default_rng(seed)
    sets = [random_ids(rng, 3000, int(rng.integers(300, 1500))) for _ in range(2)]
    results = kkrt(psi_pool, sets, chunk_size=97)
    expected = set(sets[0]) & set(sets[1])
    left, right = aligned_keys(sets, results)
    assert set(left) == expected, f"seed={seed} sizes={[len(s) for s in sets]}"
    assert left == right, "rows are not aligned across parties"
    for result in results:
        assert result.report["intersection_size"] == len(expected)
        assert result.report["protocol"] == "KKRT"
        assert result.report["set_sizes"] == {"party0": len(sets[0]), "party1": len(sets[1])}


@pytest.mark.parametrize(
    ("left", "right", "common"),
    [
        ([], [], set()),
        ([], ["a", "b"], set()),
        (["a", "b"], [], set()),
        (["a"], ["a"], {"a"}),
        (["a"], ["b"], set()),
        (["x"], [f"v{i}" for i in range(300)] + ["x"], {"x"}),
        ([f"v{i}" for i in range(300)], ["v7"], {"v7"}),
        ([f"p{i}" for i in range(200)], [f"q{i}" for i in range(250)], set()),
    ],
)
def test_it_handles_edge_sizes(psi_pool, left, right, common):
    results = kkrt(psi_pool, [left, right])
    got = aligned_keys([left, right], results)
    assert set(got[0]) == common, (len(left), len(right))
    assert got[0] == got[1]


def test_full_overlap_returns_every_row_in_a_shuffled_order(psi_pool):
    values = [f"c{i}" for i in range(500)]
    results = kkrt(psi_pool, [values, values[::-1]])
    assert sorted(results[0].rows.tolist()) == list(range(500))
    assert results[0].rows.tolist() != list(range(500)), "order must not follow party0's rows"
    left, right = aligned_keys([values, values[::-1]], results)
    assert left == right


def test_it_combines_multi_column_keys_unambiguously(psi_pool):
    left = pd.DataFrame({"a": ["ab", "a", "x", "q"], "b": ["c", "bc", "y", "r"], "v": [1, 2, 3, 4]})
    right = pd.DataFrame({"first": ["a", "x", "ab"], "second": ["bc", "y", "cz"]})
    results = kkrt(psi_pool, [left, right], [["a", "b"], ["first", "second"]], chunk_size=2)
    pairs = [tuple(left.loc[i, ["a", "b"]]) for i in results[0].rows]
    assert sorted(pairs) == [("a", "bc"), ("x", "y")]
    assert pairs == [tuple(right.loc[i, ["first", "second"]]) for i in results[1].rows]


def test_it_matches_non_ascii_keys(psi_pool):
    left = ["Zoë", "北京", "naïve café", "😀", "plain", "Ж"]
    right = ["北京", "😀", "Zoe", "naïve café", "ж"]
    results = kkrt(psi_pool, [left, right])
    assert set(aligned_keys([left, right], results)[0]) == {"北京", "😀", "naïve café"}


def test_it_reports_a_duplicate_key_with_party_and_example(psi_pool):
    with pytest.raises(PartyFailure) as info:
        kkrt(psi_pool, [["a"], ["a", "dup-é", "b", "dup-é"]], parties=["ann", "ben"])
    cause = info.value.error
    assert isinstance(cause, DuplicateKeyError), cause
    assert "'ben'" in str(cause)
    assert "'dup-é' appears on rows 1 and 3" in str(cause)


def test_it_keeps_the_first_row_of_each_key_when_duplicates_are_allowed(psi_pool):
    left = ["a", "b", "a", "c", "b", "b"]
    right = ["b", "a", "z", "z"]
    results = kkrt(psi_pool, [left, right], allow_duplicates=True)
    assert sorted(results[0].rows.tolist()) == [0, 1]
    assert sorted(results[1].rows.tolist()) == [0, 1]
    left_keys, right_keys = aligned_keys([left, right], results)
    assert left_keys == right_keys
    assert results[0].report["duplicates_dropped"] == 3
    assert results[1].report["duplicates_dropped"] == 1
    assert results[0].report["set_sizes"] == {"party0": 3, "party1": 3}


def test_it_refuses_an_empty_intersection_when_asked(psi_pool):
    with pytest.raises(PartyFailure) as info:
        kkrt(psi_pool, [["a"], ["b"]], allow_empty=False)
    assert isinstance(info.value.error, EmptyIntersectionError)


def test_it_reads_csv_and_writes_aligned_csv(psi_pool, tmp_path):
    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    left.write_text("id,age\n007,31\n7,42\nk,50\nm,60\n", encoding="utf-8")
    right.write_text("name,id\nann,k\nbob,007\ncid,x\n", encoding="utf-8")
    outputs = [tmp_path / "left-out.csv", tmp_path / "right-out.csv"]
    results = kkrt(
        psi_pool, [left, right], ["id", "id"], output_paths=outputs, tmp_dir=str(tmp_path)
    )
    out_left = pd.read_csv(outputs[0], dtype=str, keep_default_na=False)
    out_right = pd.read_csv(outputs[1], dtype=str, keep_default_na=False)
    assert list(out_left.columns) == ["id", "age"]
    assert list(out_right.columns) == ["name", "id"]
    assert sorted(out_left["id"]) == ["007", "k"]
    assert list(out_left["id"]) == list(out_right["id"])
    assert results[0].output_path == str(outputs[0])


def test_progress_is_monotone_and_reaches_one(psi_pool):
    seen, lock = {"party0": [], "party1": []}, threading.Lock()

    def progress(party, fraction):
        with lock:
            seen[party].append(fraction)

    values = [f"v{i}" for i in range(400)]
    kkrt(psi_pool, [values, values[100:]], chunk_size=25, progress=progress)
    for party, fractions in seen.items():
        assert fractions == sorted(fractions), f"{party}: {fractions}"
        assert fractions[-1] == 1.0, f"{party}: {fractions}"
        assert len(fractions) > 5, f"{party} reported too coarsely: {fractions}"


def test_cancel_stops_the_run(psi_pool):
    calls = []

    def should_cancel():
        calls.append(1)
        return len(calls) > 3

    values = [f"v{i}" for i in range(400)]
    with pytest.raises(PartyFailure) as info:
        kkrt(psi_pool, [values, values], chunk_size=10, should_cancel=should_cancel)
    assert isinstance(info.value.error, PsiCancelled)
    assert len(calls) < 40, "cancel was not checked between chunks"


def test_it_counts_traffic_on_the_link(psi_pool):
    hub = LocalLinkHub(["r", "s"])
    values = [f"v{i}" for i in range(1000)]
    kkrt(psi_pool, [values, values[500:]], parties=hub.parties, hub=hub)
    sent = hub.stats.snapshot()["sent_bytes"]
    # R sends 64 bytes per cuckoo bin; S sends 3 values per key.
    assert sent["r"] > 64 * 1000, sent
    assert sent["s"] > 3 * 500 * 7, sent


def test_it_refuses_three_parties(psi_pool):
    with pytest.raises(ConfigError, match="exactly two parties"):
        kkrt(psi_pool, [["a"], ["a"], ["a"]], [None, None, None])


def test_kkrt_psi_refuses_a_three_party_link():
    hub = LocalLinkHub(["a", "b", "c"])
    with pytest.raises(PartyFailure) as info:
        run_spmd(hub, [lambda link: kkrt_psi(link, ["x"])] * 3)
    assert isinstance(info.value.error, ConfigError)
    assert "exactly two parties" in str(info.value.error)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"chunk_size": 0}, "chunk_size"), ({"protocol": "rr22"}, "unknown PSI protocol")],
)
def test_it_rejects_bad_options(psi_pool, options, message):
    with pytest.raises((ConfigError, PartyFailure), match=message):
        run_local_psi(
            [["a"], ["a"]], [None, None], pool=psi_pool, **({"protocol": "kkrt"} | options)
        )


def test_it_names_the_party_of_a_bad_key_column(psi_pool):
    frame = pd.DataFrame({"id": ["a"]})
    with pytest.raises(PartyFailure) as info:
        kkrt(psi_pool, [frame, frame], ["id", "nope"], parties=["ann", "ben"])
    assert isinstance(info.value.error, ConfigError)
    assert "'ben'" in str(info.value.error)
    assert "'nope'" in str(info.value.error)


def scripted_receiver(messages):
    """A fake rank 0 that follows the protocol up to the base OTs, then sends `messages`."""

    def program(link):
        link.exchange(1, bytes(16))  # salt share
        link.send(1, {"size": 5, "error": None})
        link.recv(1)  # the sender's header
        for message in messages:
            link.send(1, message)
        return link.recv(1)

    return program


def run_against(fake):
    hub = LocalLinkHub(["fake", "sender"])
    with pytest.raises(PartyFailure) as info:
        run_spmd(hub, [fake, lambda link: kkrt_psi(link, [f"k{i}" for i in range(5)])])
    return info.value.error


def test_the_sender_reports_a_receiver_abort_by_name():
    error = run_against(scripted_receiver([{"abort": "cuckoo hashing failed"}]))
    assert isinstance(error, LinkError)
    assert "'fake' aborted the PSI: cuckoo hashing failed" in str(error)


def test_the_sender_refuses_a_malformed_extension_matrix():
    point = crypto_scalarmult_ed25519_base_noclamp(random_scalar())
    header = {"abort": None, "A": np.frombuffer(point, dtype=np.uint8).reshape(1, 32).copy()}

    def fake(link):
        scripted_receiver([header])(link)  # returns after reading the base-OT points
        link.send(1, np.zeros((512, 3), dtype=np.uint8))
        return link.recv(1)

    error = run_against(fake)
    assert isinstance(error, LinkError)
    width = cuckoo.bin_count(5) // 8
    assert f"expected an OT extension matrix of shape (512, {width})" in str(error)


def test_the_sender_refuses_a_header_point_outside_the_group():
    error = run_against(scripted_receiver([{"abort": None, "A": np.zeros((1, 32), np.uint8)}]))
    assert isinstance(error, LinkError)
    assert "malformed base-OT points" in str(error)
