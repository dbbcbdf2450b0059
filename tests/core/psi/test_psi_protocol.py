"""ECDH-PSI end to end, checked against Python set intersection."""

import numpy as np
import pandas as pd
import pytest

from core.comm import LocalLinkHub
from core.psi import run_local_psi
from core.psi.errors import EmptyIntersectionError
from core.psi.protocol import MIN_CHUNK, chunk_for, stream_path


def random_ids(rng: np.random.Generator, universe: int, size: int, prefix: str = "id") -> list[str]:
    """Distinct ids drawn from prefix0..prefix{universe-1}, in random order."""
    return [f"{prefix}{i}" for i in rng.choice(universe, size=size, replace=False)]


def keys_of(values, result):
    return [values[i] for i in result.rows]


@pytest.mark.parametrize(("world", "seed"), [(2, 1), (2, 2), (3, 3), (4, 4)])
def test_it_matches_set_intersection_and_aligns_parties(psi_pool, world, seed):
    rng = np.random.default_rng(seed)
    sets = [random_ids(rng, 1500, int(rng.integers(200, 600))) for _ in range(world)]
    results = run_local_psi(sets, [None] * world, pool=psi_pool, chunk_size=37)
    expected = set.intersection(*map(set, sets))
    aligned = [keys_of(s, r) for s, r in zip(sets, results, strict=True)]
    assert set(aligned[0]) == expected, f"seed={seed} sizes={[len(s) for s in sets]}"
    assert all(a == aligned[0] for a in aligned), "rows are not aligned across parties"
    for result in results:
        assert result.report["intersection_size"] == len(expected)
        assert result.report["set_sizes"] == {f"party{i}": len(s) for i, s in enumerate(sets)}


def test_a_small_set_is_cut_into_several_chunks_so_hops_overlap():
    assert chunk_for(6_000, 50_000) == MIN_CHUNK  # the demo: six chunks, not one
    assert chunk_for(100_000, 50_000) == 12_500
    assert chunk_for(10_000_000, 50_000) == 50_000  # never above the caller's largest
    assert chunk_for(0, 50_000) == MIN_CHUNK
    assert chunk_for(6_000, 16) == 16  # a caller's smaller chunk is kept


def test_three_parties_with_the_default_chunks_match_set_intersection(psi_pool):
    """Sets of a few thousand keys travel in several chunks per hop (`chunk_for`)."""
    rng = np.random.default_rng(11)
    sets = [random_ids(rng, 4000, 2500 + 300 * i) for i in range(3)]
    results = run_local_psi(sets, [None] * 3, pool=psi_pool)
    expected = set.intersection(*map(set, sets))
    aligned = [keys_of(s, r) for s, r in zip(sets, results, strict=True)]
    assert set(aligned[0]) == expected
    assert all(a == aligned[0] for a in aligned), "rows are not aligned across parties"


def test_it_orders_rows_by_masked_value_not_by_row_order(psi_pool):
    common = [f"c{i}" for i in range(300)]
    results = run_local_psi([common, common[::-1]], [None, None], pool=psi_pool)
    rows = results[0].rows
    assert sorted(rows.tolist()) == list(range(300))
    assert rows.tolist() != list(range(300)), "aligned order must not follow party0's rows"


def test_it_combines_multi_column_keys_unambiguously(psi_pool):
    left = pd.DataFrame({"a": ["ab", "a", "x", "q"], "b": ["c", "bc", "y", "r"], "v": [1, 2, 3, 4]})
    right = pd.DataFrame({"first": ["a", "x", "ab"], "second": ["bc", "y", "cz"]})
    results = run_local_psi(
        [left, right], [["a", "b"], ["first", "second"]], pool=psi_pool, chunk_size=2
    )
    pairs = [tuple(left.loc[i, ["a", "b"]]) for i in results[0].rows]
    assert sorted(pairs) == [("a", "bc"), ("x", "y")]
    other = [tuple(right.loc[i, ["first", "second"]]) for i in results[1].rows]
    assert pairs == other


def test_it_matches_non_ascii_keys(psi_pool):
    left = ["Zoë", "北京", "naïve café", "😀", "plain", "Ж"]
    right = ["北京", "😀", "Zoe", "naïve café", "ж"]
    results = run_local_psi([left, right], [None, None], pool=psi_pool)
    assert set(keys_of(left, results[0])) == {"北京", "😀", "naïve café"}
    assert keys_of(left, results[0]) == keys_of(right, results[1])


def test_it_allows_an_empty_intersection(psi_pool):
    results = run_local_psi([["a", "b"], ["c"]], [None, None], pool=psi_pool)
    assert [len(r.rows) for r in results] == [0, 0]
    assert results[0].report["intersection_size"] == 0


def test_it_refuses_an_empty_intersection_when_asked(psi_pool):
    with pytest.raises(Exception, match="intersection is empty") as info:
        run_local_psi([["a", "b"], ["c"]], [None, None], pool=psi_pool, allow_empty=False)
    assert isinstance(info.value.error, EmptyIntersectionError)


def test_it_reads_csv_and_writes_aligned_csv(psi_pool, tmp_path):
    rng = np.random.default_rng(7)
    ids = [random_ids(rng, 800, 400, prefix="k"), random_ids(rng, 800, 500, prefix="k")]
    paths, outputs = [], []
    for i, values in enumerate(ids):
        frame = pd.DataFrame({"id": values, "note": [f'{v}, "q"\nline' for v in values]})
        frame["amount"] = np.arange(len(values)) * (i + 1)
        paths.append(tmp_path / f"in{i}.csv")
        frame.to_csv(paths[-1], index=False)
        outputs.append(tmp_path / f"out{i}.csv")
    run_local_psi(paths, ["id", "id"], output_paths=outputs, pool=psi_pool, chunk_size=64)
    written = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in outputs]
    expected = set(ids[0]) & set(ids[1])
    assert set(written[0]["id"]) == expected
    assert written[0]["id"].tolist() == written[1]["id"].tolist()
    assert list(written[0].columns) == ["id", "note", "amount"]
    assert (written[1]["note"] == written[1]["id"] + ', "q"\nline').all()


def test_it_writes_large_outputs_through_several_buckets(psi_pool, tmp_path, monkeypatch):
    monkeypatch.setattr("core.psi.output.BUCKET_ROWS", 7)
    values = [f"r{i}" for i in range(60)]
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    pd.DataFrame({"id": values}).to_csv(paths[0], index=False)
    pd.DataFrame({"id": values[::-1][:45]}).to_csv(paths[1], index=False)
    outputs = [tmp_path / "a-out.csv", tmp_path / "b-out.csv"]
    results = run_local_psi(paths, ["id", "id"], output_paths=outputs, pool=psi_pool)
    first = pd.read_csv(outputs[0], dtype=str)["id"].tolist()
    assert first == pd.read_csv(outputs[1], dtype=str)["id"].tolist()
    assert first == [values[i] for i in results[0].rows]


def test_it_handles_a_csv_with_only_a_header(psi_pool, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("id,x\n")
    out = tmp_path / "out.csv"
    results = run_local_psi(
        [empty, ["a", "b"]], ["id", None], output_paths=[out, None], pool=psi_pool
    )
    assert results[0].report["set_sizes"] == {"party0": 0, "party1": 2}
    assert len(results[1].rows) == 0
    assert out.read_text().strip() == "id,x"


def test_it_counts_traffic_on_the_link(psi_pool):
    hub = LocalLinkHub(["a", "b"])
    run_local_psi(
        [["x", "y", "z"], ["y", "z"]], [None, None], parties=["a", "b"], hub=hub, pool=psi_pool
    )
    pairs = hub.stats.snapshot()["pairs"]
    # b's 2 points go to a (32 bytes each); a's 3 points go to b and come back as 16 bytes.
    assert pairs["b->a"]["bytes"] >= 2 * 32 + 3 * 16
    assert pairs["a->b"]["bytes"] >= 3 * 32


@pytest.mark.parametrize("world", [2, 3, 5])
def test_it_routes_every_set_through_every_party_once(world):
    for owner in range(world):
        path = stream_path(owner, world)
        assert path[0] == owner
        assert path[-1] == 0
        assert sorted(set(path)) == list(range(world))
        assert len(path) == world + (owner == 0)
