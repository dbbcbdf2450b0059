"""SS-LR on SPU against scikit-learn and numpy, plus parameter validation."""

from __future__ import annotations

import numpy as np
import pytest

import core as sf
from core.device import SPUObject
from core.errors import ConfigError, ShapeError
from core.ml.ss_lr import SSRegression

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the reference for SS-LR")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


@pytest.fixture
def vertical():
    """600 rows, 4 features split 2 + 2 between alice and bob; bob holds the label."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 4))
    logits = x @ np.array([1.2, -0.8, 0.5, -1.5]) + 0.3
    y = (1 / (1 + np.exp(-logits)) > rng.random(600)).astype(float)
    sf.init(parties=["alice", "bob"], address="local", seed=3)
    spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
    alice, bob = sf.PYU("alice"), sf.PYU("bob")
    parts = [alice(lambda: x[:, :2])(), bob(lambda: x[:, 2:])()]
    yield spu, parts, bob(lambda: y)(), x, y
    sf.shutdown()


@pytest.mark.parametrize("sig_type", ["real", "t1"])
def test_logistic_auc_matches_sklearn(vertical, sig_type):
    spu, parts, label, x, y = vertical
    model = SSRegression(spu).fit(parts, label, epochs=15, learning_rate=1.0, sig_type=sig_type)
    assert isinstance(model.weights, SPUObject)
    scores = sf.reveal(model.predict(parts))
    reference = LogisticRegression().fit(x, y).predict_proba(x)[:, 1]
    ours, theirs = roc_auc_score(y, scores), roc_auc_score(y, reference)
    assert abs(ours - theirs) <= 0.005, f"AUC {ours:.4f} vs scikit-learn {theirs:.4f} ({sig_type})"
    assert len(model.losses) == 15
    if sig_type == "real":
        assert model.losses[-1] < model.losses[0], f"loss did not decrease: {model.losses}"


@pytest.fixture
def vertical_three_parties():
    """600 rows, 6 features split 2 + 2 + 2 over three parties on the default 3-party SPU
    (ABY3); bob holds the label."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(600, 6))
    logits = x @ np.array([1.2, -0.8, 0.5, -1.5, 0.7, 0.2]) + 0.3
    y = (1 / (1 + np.exp(-logits)) > rng.random(600)).astype(float)
    names = ["alice", "bob", "carol"]
    sf.init(parties=names, address="local", seed=5)
    cluster = sf.utils.testing.cluster_def(names)
    assert cluster["runtime_config"]["protocol"] == "ABY3"
    spu = sf.SPU(cluster)
    devices = [sf.PYU(name) for name in names]
    parts = [device(lambda i=i: x[:, 2 * i : 2 * i + 2])() for i, device in enumerate(devices)]
    yield spu, parts, devices[1](lambda: y)(), x, y
    sf.shutdown()


@pytest.mark.parametrize("sig_type", ["real", "seg3"])
def test_three_party_aby3_training_matches_sklearn(vertical_three_parties, sig_type):
    spu, parts, label, x, y = vertical_three_parties
    model = SSRegression(spu).fit(parts, label, epochs=15, learning_rate=1.0, sig_type=sig_type)
    scores = sf.reveal(model.predict(parts))
    reference = LogisticRegression().fit(x, y).predict_proba(x)[:, 1]
    ours, theirs = roc_auc_score(y, scores), roc_auc_score(y, reference)
    assert abs(ours - theirs) <= 0.005, f"AUC {ours:.4f} vs scikit-learn {theirs:.4f} ({sig_type})"
    assert model.losses[-1] < model.losses[0], f"loss did not decrease: {model.losses}"


def test_linear_regression_matches_least_squares(vertical):
    spu, parts, _, x, _ = vertical
    target = x @ np.array([0.5, -1.0, 2.0, 0.25]) + 1.0
    label = sf.PYU("bob")(lambda: target)()
    model = SSRegression(spu).fit(
        parts, label, epochs=30, learning_rate=0.5, reg_type="linear", batch_size=200
    )
    weights = sf.reveal(model.weights).ravel()
    assert np.allclose(weights, [0.5, -1.0, 2.0, 0.25, 1.0], atol=0.02), f"weights {weights}"


def test_l2_penalty_shrinks_weights_and_eps_stops_early(vertical):
    spu, parts, label, _, _ = vertical
    plain = SSRegression(spu).fit(parts, label, epochs=5, learning_rate=1.0, report_loss=False)
    ridge = SSRegression(spu).fit(
        parts, label, epochs=5, learning_rate=1.0, penalty="l2", l2_norm=1.0, report_loss=False
    )
    norm = lambda m: np.linalg.norm(sf.reveal(m.weights)[:-1])  # noqa: E731
    assert norm(ridge) < norm(plain)
    early = SSRegression(spu).fit(parts, label, epochs=40, learning_rate=1.0, eps=0.05)
    assert len(early.losses) < 40, "training should stop once weights move less than eps"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"sig_type": "cubic"}, "cubic"),
        ({"reg_type": "poisson"}, "poisson"),
        ({"penalty": "l1"}, "l1"),
        ({"l2_norm": -1.0}, "l2_norm"),
    ],
)
def test_bad_hyper_parameters_are_refused(vertical, kwargs, message):
    spu, parts, label, _, _ = vertical
    with pytest.raises(ConfigError, match=message):
        SSRegression(spu).fit(parts, label, **kwargs)


def test_mismatched_labels_and_predict_before_fit(vertical):
    spu, parts, _, _, _ = vertical
    short = sf.PYU("bob")(lambda: np.ones(10))()
    with pytest.raises(ShapeError, match="labels"):
        SSRegression(spu).fit(parts, short, epochs=1)
    with pytest.raises(ConfigError, match="before fit"):
        SSRegression(spu).predict(parts)


def test_on_epoch_reports_each_epoch_and_can_stop_training(vertical):
    spu, parts, label, _, _ = vertical
    seen: list[tuple[int, int]] = []
    SSRegression(spu).fit(
        parts,
        label,
        epochs=3,
        report_loss=False,
        on_epoch=lambda epoch: seen.append((epoch, len(seen))),
    )
    assert seen == [(1, 0), (2, 1), (3, 2)]

    class Stop(Exception):
        pass

    def stop_after_two(epoch: int) -> None:
        if epoch == 2:
            raise Stop

    model = SSRegression(spu)
    with pytest.raises(Stop):
        model.fit(parts, label, epochs=10, on_epoch=stop_after_two)
    assert len(model.losses) == 2


def test_loss_and_predictions_over_many_pieces_match_the_plaintext_model(vertical, monkeypatch):
    """Loss and predictions run over the rows piece by piece (bounded memory): pieces of 64
    rows, the last one short, give the numpy loss and scores of the revealed weights."""
    import core.ml.ss_lr as ss_lr

    monkeypatch.setattr(ss_lr, "EVAL_BATCH", 64)
    spu, parts, label, x, y = vertical
    model = SSRegression(spu).fit(parts, label, epochs=3, learning_rate=1.0, batch_size=128)
    w = np.asarray(sf.reveal(model.weights)).ravel()
    p = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    scores = np.asarray(sf.reveal(model.predict(parts)))
    assert scores.shape == (600,)
    np.testing.assert_allclose(scores, p, atol=2e-3)
    clipped = np.clip(p, 2.0**-10, 1 - 2.0**-10)
    expected = -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    assert model.losses[-1] == pytest.approx(expected, abs=5e-3)


def plaintext_loss(x, y, w) -> float:
    p = np.clip(1 / (1 + np.exp(-(x @ w[:-1] + w[-1]))), 2.0**-10, 1 - 2.0**-10)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_zero_one_labels_take_the_one_logarithm_loss_and_soft_labels_the_general_one(vertical):
    """0/1 labels: log of the true class's probability (one log per row); labels in between
    (here 0.1 / 0.9) keep y log p + (1 - y) log(1 - p). Both equal numpy's loss."""
    spu, parts, label, x, y = vertical
    binary = SSRegression(spu).fit(parts, label, epochs=2, learning_rate=1.0, batch_size=200)
    soft_y = 0.1 + 0.8 * y
    soft = SSRegression(spu).fit(
        parts, sf.PYU("bob")(lambda: soft_y)(), epochs=2, learning_rate=1.0, batch_size=200
    )
    assert binary.binary_labels
    assert not soft.binary_labels
    for model, labels in ((binary, y), (soft, soft_y)):
        w = np.asarray(sf.reveal(model.weights)).ravel()
        assert model.losses[-1] == pytest.approx(plaintext_loss(x, labels, w), abs=5e-3)


def test_labels_already_secret_are_not_inspected(vertical):
    spu, parts, label, x, y = vertical
    shared = spu(lambda t: t)(label)
    model = SSRegression(spu).fit(parts, shared, epochs=1, learning_rate=1.0)
    assert not model.binary_labels
    w = np.asarray(sf.reveal(model.weights)).ravel()
    assert model.losses[-1] == pytest.approx(plaintext_loss(x, y, w), abs=5e-3)


def blocks_of(x, y, rows: int):
    """(feature parts, labels) of consecutive blocks of `rows` rows (alice 2 columns, bob 2
    and the label), as a caller reading files slice by slice shares them."""
    alice, bob = sf.PYU("alice"), sf.PYU("bob")
    for start in range(0, len(x), rows):
        part = slice(start, start + rows)
        parts = [alice(lambda p=part: x[p, :2])(), bob(lambda p=part: x[p, 2:])()]
        yield parts, bob(lambda p=part: y[p])()


def test_blocks_of_rows_train_and_predict_as_the_whole_table(vertical):
    """Blocks of 250 rows (batches of 125; the last block short) give the whole table's
    model within fixed-point noise: same batches, the loss and scores over every block."""
    spu, parts, label, x, y = vertical
    options = {"epochs": 3, "learning_rate": 1.0, "batch_size": 125}
    whole = SSRegression(spu).fit(parts, label, **options)
    model = SSRegression(spu)
    shared = model.share_rows(blocks_of(x, y, 250))
    assert [block.shape for block in shared.features] == [(250, 5), (250, 5), (100, 5)]
    model.fit(shared, **options)
    assert model.binary_labels
    w_whole, w_blocks = (np.asarray(sf.reveal(m.weights)).ravel() for m in (whole, model))
    np.testing.assert_allclose(w_blocks, w_whole, atol=5e-3)
    np.testing.assert_allclose(model.losses, whole.losses, atol=2e-3)
    assert model.losses[-1] == pytest.approx(plaintext_loss(x, y, w_blocks), abs=5e-3)
    features = model.share_rows((block, None) for block, _ in blocks_of(x, y, 250))
    scores = np.asarray(sf.reveal(model.predict(features)))
    p = 1 / (1 + np.exp(-(x @ w_blocks[:-1] + w_blocks[-1])))
    np.testing.assert_allclose(scores, p, atol=2e-3)


def test_blocks_that_disagree_are_refused(vertical):
    spu, parts, label, x, y = vertical
    alice, bob = sf.PYU("alice"), sf.PYU("bob")
    short = [([alice(lambda: x[:10, :2])(), bob(lambda: x[:10, 2:])()], bob(lambda: y[:9])())]
    with pytest.raises(ShapeError, match="labels"):
        SSRegression(spu).share_rows(short)
    features = SSRegression(spu).share_rows([(parts, None)])
    with pytest.raises(ShapeError, match="labels of every block"):
        SSRegression(spu).fit(features, epochs=1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [(0.004, True), (-0.02, False), (0.02, False), (0.0, True)],
)
def test_the_early_stop_bit_is_max_abs_change_below_eps(vertical, change, expected):
    """One weight moves by `change` (either sign), the others by 0.001; eps is 0.01."""
    spu = vertical[0]
    before = np.array([[0.5], [-1.0], [2.0], [0.25], [1.0]])
    after = before + 0.001
    after[2, 0] = before[2, 0] + change
    model = SSRegression(spu, weights=spu(lambda: after)())
    assert model._converged(spu(lambda: before)(), 0.01) is expected
