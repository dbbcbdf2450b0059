"""PSI inputs: key columns, encodings, duplicates, bad arguments."""

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, LinkError, PartyFailure
from core.psi import run_local_psi
from core.psi.errors import DuplicateKeyError
from core.psi.protocol import _exchange_headers
from core.psi.source import PsiSource, encode_keys


def failure_cause(info) -> BaseException:
    assert isinstance(info.value, PartyFailure), info.value
    return info.value.error


def test_encode_keys_is_unambiguous_across_columns():
    joined = encode_keys([["ab", "a"], ["c", "bc"]])
    assert joined[0] != joined[1]
    assert encode_keys([["é"]]) == [b"\x00\x00\x00\x02\xc3\xa9"]


def test_it_names_an_unknown_key_column(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,name\n1,a\n")
    with pytest.raises(ConfigError, match="'ident' not found.*'id', 'name'"):
        PsiSource.open("alice", path, ["ident"])


def test_it_names_the_party_of_a_bad_column_in_a_run(psi_pool):
    frame = pd.DataFrame({"id": ["a", "b"]})
    with pytest.raises(PartyFailure, match="party1") as info:
        run_local_psi([frame, frame], ["id", "missing"], pool=psi_pool)
    assert "'missing' not found" in str(failure_cause(info))


def test_it_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ConfigError, match="empty.csv.*is empty"):
        PsiSource.open("bob", path, "id")


def test_it_rejects_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        PsiSource.open("bob", tmp_path / "nope.csv", "id")


@pytest.mark.parametrize(
    ("data", "keys", "message"),
    [
        (pd.DataFrame({"id": ["a"]}), [], "no key columns"),
        (pd.DataFrame({"id": ["a"]}), ["id", "id"], "repeat"),
        (pd.DataFrame({"id": ["a", None]}), "id", "missing a value at row 1"),
        (["a", "b"], ["id"], "takes no key columns"),
        ({"id": ["a"]}, "id", "unsupported PSI input type dict"),
    ],
)
def test_it_rejects_bad_inputs(data, keys, message):
    with pytest.raises(ConfigError, match=message):
        PsiSource.open("carol", data, keys)


def test_it_keeps_csv_text_exactly(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id\n007\n7\n\nNA\n", encoding="utf-8")
    source = PsiSource.open("p", path, "id")
    keys = [k for _, chunk in source.iter_keys(2) for k in chunk]
    assert keys == encode_keys([["007", "7", "NA"]])


def test_it_reports_a_duplicate_key_with_party_and_example(psi_pool):
    left = ["a", "dup-é", "b", "dup-é"]
    with pytest.raises(PartyFailure) as info:
        run_local_psi([["a"], left], [None, None], parties=["ann", "ben"], pool=psi_pool)
    cause = failure_cause(info)
    assert isinstance(cause, DuplicateKeyError), cause
    assert "'ben'" in str(cause)
    assert "'dup-é' appears on rows 1 and 3" in str(cause)


def test_it_keeps_the_first_row_of_each_key_when_duplicates_are_allowed(psi_pool):
    left = ["a", "b", "a", "c", "b", "b"]
    right = ["b", "a", "z"]
    results = run_local_psi([left, right], [None, None], pool=psi_pool, allow_duplicates=True)
    assert sorted(results[0].rows.tolist()) == [0, 1]
    assert [left[i] for i in results[0].rows] == [right[i] for i in results[1].rows]
    assert results[0].report["duplicates_dropped"] == 3
    assert results[0].report["set_sizes"]["party0"] == 3


@pytest.mark.parametrize("option", [{"chunk_size": 0}, {"secret": b"short"}])
def test_it_rejects_bad_options(psi_pool, option):
    with pytest.raises(PartyFailure, match="chunk_size|secret"):
        run_local_psi([["a"], ["a"]], [None, None], pool=psi_pool, **option)


def test_it_needs_as_many_key_lists_as_inputs(psi_pool):
    with pytest.raises(ConfigError, match="2 inputs, 1 key lists"):
        run_local_psi([["a"], ["a"]], [None], pool=psi_pool)


def test_it_compares_dataframe_values_as_text(psi_pool):
    left = pd.DataFrame({"n": np.array([1, 2, 3], dtype=np.int64)})
    right = pd.DataFrame({"n": ["3", "1", "x"]})
    results = run_local_psi([left, right], ["n", "n"], pool=psi_pool)
    assert sorted(left["n"][results[0].rows].tolist()) == [1, 3]


class _HeaderLink:
    """A three-party link seen from bob (rank 1): alice's header arrives, carol is lost."""

    party, rank, world_size, parties = "bob", 1, 3, ["alice", "bob", "carol"]

    def __init__(self):
        self.sent = []

    def send_all(self, obj):
        self.sent.append(obj)

    def recv(self, peer):
        if peer == 0:
            return {"size": 4, "error": None}
        raise LinkError("party 'carol' aborted the run: alice stopped it")


def test_a_party_refusing_its_keys_keeps_its_own_reason_when_a_peer_is_lost_meanwhile():
    link = _HeaderLink()
    assert _exchange_headers(link, 3, "duplicate keys") == [4, 3, 3]
    assert link.sent == [{"size": 3, "error": "duplicate keys"}]
    with pytest.raises(LinkError, match="carol"):  # without a reason of its own: the loss
        _exchange_headers(_HeaderLink(), 3, None)
