"""data_prep/psi against a plaintext pandas inner join (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import PartyFailure
from core.psi import DuplicateKeyError, EmptyIntersectionError
from tests.workflows.helpers import run_component, table
from workflows.components import registry
from workflows.components.context import RunCancelled, RunContext
from workflows.components.params import ParamEnv, ParamError
from workflows.components.spec import InferContext

PARTIES = ("alice", "bob", "carol")


def party_frames(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = {}
    for index, party in enumerate(PARTIES):
        ids = rng.choice(np.arange(100, 160), 45, replace=False)
        frames[party] = pd.DataFrame({"cid": ids, f"x{index}": rng.normal(size=45).round(4)})
    return frames


def inputs(tmp_path, frames: dict[str, pd.DataFrame]) -> dict:
    return {
        f"input_ds{i + 1}": table(tmp_path / "in" / party, {party: frame}, {"cid": "id"})
        for i, (party, frame) in enumerate(frames.items())
    }


def params(count: int, **extra) -> dict:
    return {f"keys{i + 1}": ["cid"] for i in range(count)} | extra


def test_it_joins_three_parties_like_an_inner_join_sorted_by_key(tmp_path):
    frames = party_frames()
    out = run_component(tmp_path, "data_prep/psi", params(3), inputs(tmp_path, frames), PARTIES)
    expected = frames["alice"].merge(frames["bob"], on="cid").merge(frames["carol"], on="cid")
    expected = expected.sort_values("cid", key=lambda c: c.astype(str)).reset_index(drop=True)
    for index, party in enumerate(PARTIES):
        got = out["output_ds"].read_table(party).reset_index(drop=True)
        assert list(got["cid"]) == list(expected["cid"]), party
        np.testing.assert_allclose(got[f"x{index}"], expected[f"x{index}"])
    report = out["report"].read_json("bob")
    assert report["intersection_size"] == len(expected)
    assert report["input_rows"] == dict.fromkeys(PARTIES, 45)


def test_it_keeps_rows_aligned_without_sorting(tmp_path):
    frames = dict(list(party_frames(5).items())[:2])
    out = run_component(
        tmp_path, "data_prep/psi", params(2, sort_result=False), inputs(tmp_path, frames)
    )
    alice, bob = (out["output_ds"].read_table(p) for p in ("alice", "bob"))
    assert list(alice["cid"]) == list(bob["cid"])
    assert set(alice["cid"]) == set(frames["alice"]["cid"]) & set(frames["bob"]["cid"])


def test_it_refuses_duplicate_keys_unless_allowed(tmp_path):
    frames = {
        "alice": pd.DataFrame({"cid": [1, 2, 2, 3], "a": [0.1, 0.2, 0.3, 0.4]}),
        "bob": pd.DataFrame({"cid": [2, 3, 4], "b": [1.0, 2.0, 3.0]}),
    }
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path / "one", "data_prep/psi", params(2), inputs(tmp_path, frames))
    assert isinstance(failure.value.error, DuplicateKeyError)
    out = run_component(
        tmp_path / "two",
        "data_prep/psi",
        params(2, allow_duplicates=True),
        inputs(tmp_path, frames),
    )
    alice = out["output_ds"].read_table("alice")
    assert list(alice["cid"]) == [2, 3]
    assert list(alice["a"]) == [0.2, 0.4]


def test_it_fails_an_empty_intersection_unless_allowed(tmp_path):
    frames = {"alice": pd.DataFrame({"cid": [1, 2]}), "bob": pd.DataFrame({"cid": [3, 4]})}
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path / "one", "data_prep/psi", params(2), inputs(tmp_path, frames))
    assert isinstance(failure.value.error, EmptyIntersectionError)
    out = run_component(
        tmp_path / "two",
        "data_prep/psi",
        params(2, allow_empty_result=True),
        inputs(tmp_path, frames),
    )
    assert out["report"].read_json("alice")["intersection_size"] == 0
    assert out["output_ds"].read_table("bob").empty


def test_it_records_traffic_per_party(tmp_path):
    frames = dict(list(party_frames(7).items())[:2])
    component = registry().get("data_prep/psi")
    data = inputs(tmp_path, frames)
    infos = {port: d.info for port, d in data.items()}
    env = ParamEnv(parties=("alice", "bob"), inputs=infos)
    cleaned = {p.name: p.default for p in component.params} | params(2)
    context = RunContext(
        params=cleaned,
        parties=("alice", "bob"),
        inputs=data,
        infos=component.infer(InferContext(cleaned, infos, env)),
        output_dir=lambda party: tmp_path / "out" / party,
    )
    component.run(context)
    assert context.comm.sent_by("alice") > 0
    assert context.comm.sent_by("bob") > 0


def check(frames, tmp_path, **given) -> list[str]:
    component = registry().get("data_prep/psi")
    infos = {port: d.info for port, d in inputs(tmp_path, frames).items()}
    env = ParamEnv(parties=PARTIES, inputs=infos)
    cleaned = {p.name: p.default for p in component.params if not p.required} | given
    return [str(problem) for problem in component.check(InferContext(cleaned, infos, env))]


def test_it_rejects_unequal_key_counts_and_two_inputs_of_one_party(tmp_path):
    frames = {
        "alice": pd.DataFrame({"cid": [1], "k": [2]}),
        "bob": pd.DataFrame({"cid": [1]}),
    }
    problems = check(frames, tmp_path, keys1=["cid", "k"], keys2=["cid"])
    assert any("same number of key columns" in p for p in problems), problems
    data = inputs(tmp_path, {"alice": frames["alice"]})
    same = {"input_ds1": data["input_ds1"].info, "input_ds2": data["input_ds1"].info}
    component = registry().get("data_prep/psi")
    cleaned = {p.name: p.default for p in component.params if not p.required} | params(2)
    checked = component.check(InferContext(cleaned, same, ParamEnv(parties=PARTIES)))
    problems = [str(problem) for problem in checked]
    assert any("different party" in p for p in problems), problems


def test_it_accepts_only_id_columns_as_keys(tmp_path):
    frames = {"alice": pd.DataFrame({"cid": [1], "v": [2.0]})}
    info = inputs(tmp_path, frames)["input_ds1"].info
    keys = registry().get("data_prep/psi").param("keys1")
    with pytest.raises(ParamError, match="role 'feature'"):
        keys.clean(["v"], ParamEnv(parties=PARTIES, inputs={"input_ds1": info}))


def test_a_cancel_stops_the_intersection_and_writes_nothing(tmp_path):
    frames = party_frames(9)
    component = registry().get("data_prep/psi")
    data = inputs(tmp_path, frames)
    infos = {port: d.info for port, d in data.items()}
    cleaned = {p.name: p.default for p in component.params} | params(3)
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # the start passes; the first check while the parties run stops

    context = RunContext(
        params=cleaned,
        parties=PARTIES,
        inputs=data,
        infos=component.infer(InferContext(cleaned, infos, ParamEnv(PARTIES, infos))),
        output_dir=lambda party: tmp_path / "out" / party,
        cancelled=cancelled,
    )
    with pytest.raises(RunCancelled):
        component.run(context)
    assert context.written == {}


def test_kkrt_joins_two_parties_like_an_inner_join(tmp_path):
    frames = dict(list(party_frames(11).items())[:2])
    out = run_component(
        tmp_path, "data_prep/psi", params(2, protocol="KKRT_PSI_2PC"), inputs(tmp_path, frames)
    )
    expected = frames["alice"].merge(frames["bob"], on="cid")
    expected = expected.sort_values("cid", key=lambda c: c.astype(str)).reset_index(drop=True)
    alice, bob = (out["output_ds"].read_table(p).reset_index(drop=True) for p in ("alice", "bob"))
    assert list(alice["cid"]) == list(expected["cid"])
    assert list(bob["cid"]) == list(expected["cid"])
    np.testing.assert_allclose(bob["x1"], expected["x1"])
    report = out["report"].read_json("alice")
    assert report["protocol"] == "KKRT_PSI_2PC"
    assert report["intersection_size"] == len(expected)


def test_kkrt_refuses_duplicate_keys_unless_allowed(tmp_path):
    frames = {
        "alice": pd.DataFrame({"cid": [1, 2, 2, 3], "a": [0.1, 0.2, 0.3, 0.4]}),
        "bob": pd.DataFrame({"cid": [2, 3, 4], "b": [1.0, 2.0, 3.0]}),
    }
    kkrt = params(2, protocol="KKRT_PSI_2PC")
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path / "one", "data_prep/psi", kkrt, inputs(tmp_path, frames))
    assert isinstance(failure.value.error, DuplicateKeyError)
    out = run_component(
        tmp_path / "two",
        "data_prep/psi",
        kkrt | {"allow_duplicates": True},
        inputs(tmp_path, frames),
    )
    assert list(out["output_ds"].read_table("alice")["a"]) == [0.2, 0.4]


def test_kkrt_is_refused_for_three_parties_with_a_clear_message(tmp_path):
    problems = check(party_frames(), tmp_path, **params(3, protocol="KKRT_PSI_2PC"))
    assert any("exactly two parties" in p and "ECDH_25519" in p for p in problems), problems
    two = dict(list(party_frames().items())[:2])
    assert check(two, tmp_path / "two", **params(2, protocol="KKRT_PSI_2PC")) == []


def test_the_protocol_choice_lists_both_engines_and_defaults_to_automatic():
    protocol = registry().get("data_prep/psi").param("protocol")
    assert protocol.choices == ("AUTO", "ECDH_25519", "KKRT_PSI_2PC")
    assert protocol.default == "AUTO"
    with pytest.raises(ParamError, match="RR22"):
        protocol.clean("RR22", ParamEnv(parties=PARTIES))


def test_auto_runs_kkrt_between_two_parties_and_ecdh_between_three(tmp_path):
    frames = party_frames()
    two = dict(list(frames.items())[:2])
    out = run_component(tmp_path / "2", "data_prep/psi", params(2), inputs(tmp_path / "2", two))
    assert out["report"].read_json("alice")["protocol"] == "KKRT_PSI_2PC"
    out = run_component(
        tmp_path / "3", "data_prep/psi", params(3), inputs(tmp_path / "3", frames), PARTIES
    )
    assert out["report"].read_json("alice")["protocol"] == "ECDH_25519"


def test_the_log_says_which_protocol_ran_and_why():
    from workflows.components.library.psi import pick_protocol

    logs: list[str] = []
    ctx = RunContext(
        {"protocol": "AUTO"}, PARTIES, {}, {}, lambda p: None, on_log=lambda m: logs.append(str(m))
    )
    keys = {"alice": pd.DataFrame({"cid": ["1", "2"]}), "bob": pd.DataFrame({"cid": ["2"]})}
    assert pick_protocol(ctx, ["alice", "bob"], keys) == "kkrt"
    three = keys | {"carol": keys["alice"]}
    assert pick_protocol(ctx, ["alice", "bob", "carol"], three) == "ecdh"
    ctx.params["protocol"] = "ECDH_25519"
    assert pick_protocol(ctx, ["alice", "bob"], keys) == "ecdh"
    assert logs[0].startswith("PSI protocol: KKRT_PSI_2PC (automatic: two parties with 2 x 1 keys")
    assert logs[1] == (
        "PSI protocol: ECDH_25519 (automatic: 3 parties, and KKRT-PSI runs between two only)"
    )
    assert logs[2] == "PSI protocol: ECDH_25519 (chosen in the node's settings)"


def test_a_missing_key_is_refused_naming_the_party_column_and_row(tmp_path):
    frames = {
        "alice": pd.DataFrame({"cid": pd.array([1, None, 3], dtype="Int64"), "a": [0.1, 0.2, 0.3]}),
        "bob": pd.DataFrame({"cid": [1, 3], "b": [1.0, 2.0]}),
    }
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path, "data_prep/psi", params(2), inputs(tmp_path, frames))
    assert failure.value.party == "alice"
    assert "key column 'cid' is missing a value at row 1" in str(failure.value.error)


def test_the_automatic_choice_is_logged_in_the_runs_language():
    from django.utils import translation

    from workflows.components.library.psi import pick_protocol

    logs: list[str] = []
    ctx = RunContext(
        {"protocol": "AUTO"}, PARTIES, {}, {}, lambda p: None, on_log=lambda m: logs.append(str(m))
    )
    keys = {"alice": pd.DataFrame({"cid": ["1", "2"]}), "bob": pd.DataFrame({"cid": ["2"]})}
    three = keys | {"carol": keys["alice"]}
    with translation.override("zh-hans"):
        pick_protocol(ctx, ["alice", "bob"], keys)
        pick_protocol(ctx, ["alice", "bob", "carol"], three)
    assert logs[0].startswith("PSI 协议：KKRT_PSI_2PC（自动选择：两个参与方，2 x 1 个键；"), logs[0]
    assert logs[1] == "PSI 协议：ECDH_25519（自动选择：3 个参与方，而 KKRT-PSI 只能在两方之间运行）"
