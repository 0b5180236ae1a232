"""Training loops and evaluation (rnnlib.train): loss falls, state is carried, seeds decide."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib import SGD, Adagrad, RNNClassifier, RNNLanguageModel, clip_by_global_norm
from rnnlib.data import balanced_brackets, batchify, iter_chunks
from rnnlib.train import (
    bits_per_char,
    seq2seq_exact_match,
    train_language_model,
    train_minibatches,
    unigram_bits_per_char,
)

K = 5
TEXT_IDS = np.array([0, 1, 2, 3, 4, 3, 2, 1] * 40)  # a tiny periodic "corpus" over 5 symbols


def test_language_model_loss_falls_and_beats_unigram():
    model = RNNLanguageModel(K, 16, rng=0)
    streams = batchify(TEXT_IDS, 4)
    hist = train_language_model(model, streams, seq_len=8, optimizer=Adagrad(0.1), steps=60, max_norm=5.0,
                                val_streams=streams, eval_every=20)
    assert hist["loss"].shape == hist["grad_norm"].shape == (60,)
    assert hist["loss"][-5:].mean() < 0.3 * hist["loss"][:5].mean()
    assert hist["val_step"].tolist() == [20, 40, 60] and hist["val_bpc"].shape == (3,)
    assert hist["val_bpc"][-1] < unigram_bits_per_char(TEXT_IDS, TEXT_IDS, K) - 1


def test_language_model_training_is_stateful_truncated_bptt():
    """Three updates by hand: state carried across chunks, gradient averaged over streams, clipped."""
    streams = batchify(TEXT_IDS, 4)
    model = RNNLanguageModel(K, 6, rng=1)
    by_hand = RNNLanguageModel(K, 6, rng=1)
    hist = train_language_model(model, streams, seq_len=7, optimizer=SGD(0.5), steps=3, max_norm=1.0)
    h, opt = None, SGD(0.5)
    for i, (x, y) in enumerate(iter_chunks(streams, 7)):
        if i == 3:
            break
        loss, grads, h = by_hand.loss(x, y, h0=h)
        assert hist["loss"][i] == pytest.approx(loss / 4, rel=1e-12)
        grads, norm = clip_by_global_norm({k: g / 4 for k, g in grads.items()}, 1.0)
        assert hist["grad_norm"][i] == pytest.approx(norm, rel=1e-12)
        opt.step(by_hand.params, grads)
    for k in model.params:
        np.testing.assert_allclose(model.params[k], by_hand.params[k], rtol=0, atol=1e-12)


def test_language_model_restarts_from_zero_state_each_pass():
    streams = batchify(TEXT_IDS, 4)  # (4, 80): 11 chunks of 7 (the short last one is skipped)
    steps = 12
    model = RNNLanguageModel(K, 6, rng=2)
    seen = []
    hist = train_language_model(model, streams, seq_len=7, optimizer=SGD(1e-9), steps=steps,
                                progress=lambda step, info: seen.append((step, info["loss"])))
    assert [s for s, _ in seen] == list(range(1, steps + 1))
    assert [loss for _, loss in seen] == hist["loss"].tolist()
    # with a negligible learning rate, update 12 is chunk 0 again from a zero state: the first loss
    assert hist["loss"][11] == pytest.approx(hist["loss"][0], rel=1e-6)
    assert hist["loss"][10] != pytest.approx(hist["loss"][0], rel=1e-3)


def test_training_is_deterministic():
    streams = batchify(TEXT_IDS, 4)
    runs = []
    for _ in range(2):
        model = RNNLanguageModel(K, 8, rng=3)
        runs.append((train_language_model(model, streams, seq_len=5, optimizer=Adagrad(0.1), steps=10)["loss"],
                     model.params["U"]))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_progress_bar_runs(capsys):
    model = RNNLanguageModel(K, 4, rng=0)
    hist = train_language_model(model, batchify(TEXT_IDS, 4), seq_len=5, optimizer=SGD(0.1), steps=3, progress=True)
    assert hist["loss"].shape == (3,)
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never to stdout


def test_bits_per_char_chunked_equals_one_pass():
    model = RNNLanguageModel(K, 8, rng=4)
    streams = batchify(TEXT_IDS[:203], 3)  # (3, 67): chunks of 10 and a short last one
    logp = np.log(model.predict(streams[:, :-1]))
    b, t = np.indices(streams[:, 1:].shape)
    expected = -logp[b, t, streams[:, 1:]].mean() / math.log(2)
    assert bits_per_char(model, streams, seq_len=10) == pytest.approx(expected, rel=1e-12)


def test_uniform_model_scores_log2_k():
    model = RNNLanguageModel(K, 4, rng=0, init_scale=0.0)
    assert bits_per_char(model, batchify(TEXT_IDS, 2)) == pytest.approx(math.log2(K), rel=1e-12)


def test_unigram_bits_per_char():
    train = np.array([0, 0, 0, 1])
    # add-one counts: 4, 2, 1 over 7 -> p(0) = 4/7, p(1) = 2/7
    expected = -(math.log2(4 / 7) + math.log2(2 / 7)) / 2
    assert unigram_bits_per_char(train, np.array([0, 1]), 3) == pytest.approx(expected, rel=1e-12)
    entropy = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert unigram_bits_per_char(train, train, 2, alpha=1e-12) == pytest.approx(entropy, rel=1e-9)


def test_minibatch_training_learns_brackets_and_is_seeded():
    x, y = balanced_brackets(400, 6, 0)
    runs = []
    for _ in range(2):
        model = RNNClassifier(2, 16, 2, rng=0)
        hist = train_minibatches(model, {"x": x, "y": y}, optimizer=Adagrad(0.1), steps=150, batch_size=20,
                                 rng=7, max_norm=5.0)
        runs.append(hist["loss"])
    assert np.array_equal(runs[0], runs[1])
    assert runs[0][-20:].mean() < 0.5 * runs[0][:20].mean()
    assert (model.predict(x).argmax(-1) == y).mean() > 0.9


def test_minibatch_progress_callable_sees_every_update_after_it_is_made():
    x, y = balanced_brackets(60, 6, 0)
    model = RNNClassifier(2, 4, 2, rng=0)
    seen = []

    def progress(step, info):  # the model already holds the update of this step
        seen.append((step, info["loss"], model.params["V"].copy()))

    hist = train_minibatches(model, {"x": x, "y": y}, optimizer=SGD(0.1), steps=5, batch_size=20,
                             rng=0, progress=progress)
    assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5]
    assert [loss for _, loss, _ in seen] == hist["loss"].tolist()
    assert np.array_equal(seen[-1][2], model.params["V"]) and not np.array_equal(seen[0][2], seen[-1][2])


def test_minibatch_training_passes_keyword_arrays_and_loss_kwargs():
    calls = []

    class Recorder:
        params = {"w": np.zeros(2)}

        def loss(self, a, b, reduction):
            calls.append((a.copy(), b.copy(), reduction))
            return 1.0, {"w": np.ones(2)}

    data = {"a": np.arange(10), "b": np.arange(10) * 10}
    train_minibatches(Recorder(), data, optimizer=SGD(1.0), steps=7, batch_size=3, rng=0,
                      loss_kwargs={"reduction": "mean"})
    assert len(calls) == 7
    assert all(np.array_equal(b, 10 * a) and len(a) == 3 and r == "mean" for a, b, r in calls)
    first_epoch = np.concatenate([a for a, _, _ in calls[:3]])
    assert len(set(first_epoch.tolist())) == 9  # without replacement within an epoch


def test_seq2seq_exact_match_compares_masked_steps():
    class Fixed:
        def greedy_decode(self, src, start_id, max_len, src_lengths=None, end_id=None):
            assert (start_id, max_len, end_id) == (10, 3, 11)
            return np.array([[1, 2, 11], [1, 3, 11], [5, 11, 4]])

    tgt = np.array([[1, 2, 11], [1, 2, 11], [5, 11, 11]])
    mask = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0]], dtype=bool)
    ok = seq2seq_exact_match(Fixed(), np.zeros((3, 2), dtype=np.int64), tgt, mask, start_id=10, end_id=11)
    assert ok.tolist() == [True, False, True]


model = RNNLanguageModel(K, 4, rng=0)
streams = batchify(TEXT_IDS, 4)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: train_language_model(model, streams, seq_len=0, optimizer=SGD(1), steps=1), ValueError, "seq_len"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=0), ValueError, "steps"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer="sgd", steps=1), TypeError, "optimizer"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1, max_norm=-1),
         ValueError, "max_norm"),
        (lambda: train_language_model(model, streams + K, seq_len=5, optimizer=SGD(1), steps=1),
         ValueError, "streams"),
        (lambda: train_language_model(model, streams, seq_len=500, optimizer=SGD(1), steps=1),
         ValueError, "streams"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1, progress="yes"),
         TypeError, "progress"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1,
                                      val_streams=streams.astype(float)), TypeError, "val_streams"),
        (lambda: bits_per_char(model, streams, seq_len=-1), ValueError, "seq_len"),
        (lambda: unigram_bits_per_char(TEXT_IDS, TEXT_IDS, 3), ValueError, "train_ids"),
        (lambda: unigram_bits_per_char(TEXT_IDS, TEXT_IDS, K, alpha=0), ValueError, "alpha"),
        (lambda: train_minibatches(model, (streams,), optimizer=SGD(1), steps=1, batch_size=1, rng=0),
         TypeError, "data"),
        (lambda: train_minibatches(model, {"x": streams, "y": streams[:2]}, optimizer=SGD(1), steps=1,
                                   batch_size=1, rng=0), ValueError, "data"),
        (lambda: train_minibatches(model, {"x": streams}, optimizer=SGD(1), steps=1, batch_size=9, rng=0),
         ValueError, "batch_size"),
        (lambda: train_minibatches(model, {"x": streams}, optimizer=SGD(1), steps=1, batch_size=1, rng=None),
         TypeError, "rng"),
        (lambda: train_minibatches(model, {"x": streams}, optimizer=SGD(1), steps=0, batch_size=1, rng=0),
         ValueError, "steps"),
        (lambda: train_minibatches(model, {"x": streams}, optimizer=SGD(1), steps=1, batch_size=0, rng=0),
         ValueError, "batch_size"),
        (lambda: train_minibatches(model, {"x": streams}, optimizer=SGD(1), steps=1, batch_size=1, rng=0,
                                   max_norm=0.0), ValueError, "max_norm"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1, val_streams=streams,
                                      eval_every=0), ValueError, "eval_every"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1,
                                      val_streams=streams + K), ValueError, "val_streams"),
        (lambda: bits_per_char(model, streams + K), ValueError, "streams"),
        (lambda: bits_per_char(model, streams.astype(float)), TypeError, "streams"),
        (lambda: unigram_bits_per_char(TEXT_IDS, TEXT_IDS, 0), ValueError, "vocab_size"),
        (lambda: unigram_bits_per_char(TEXT_IDS, TEXT_IDS + K, K), ValueError, "eval_ids"),
        (lambda: seq2seq_exact_match(None, np.zeros((2, 1), int), np.ones((2, 2), float), np.ones((2, 2), bool),
                                     start_id=0, end_id=1), TypeError, "tgt_out"),
        (lambda: seq2seq_exact_match(None, np.zeros((2, 1), int), np.ones((2, 2), int), np.ones((2, 3), bool),
                                     start_id=0, end_id=1), ValueError, "mask"),
        (lambda: seq2seq_exact_match(None, np.zeros((3, 1), int), np.ones((2, 2), int), np.ones((2, 2), bool),
                                     start_id=0, end_id=1), ValueError, "src"),
    ],
)
def test_bad_input_names_the_argument(call, error, name):
    with raises_naming(error, name):
        call()


# ------------------------------------------------------- what a run reports --


class FakeBar:
    """Stands in for tqdm.auto.tqdm and records what a progress bar would show."""

    bars = []

    def __init__(self, total=None, desc=None, leave=True):
        self.total, self.desc, self.leave = total, desc, leave
        self.count, self.postfixes, self.closed, self.closed_after = 0, [], False, []
        FakeBar.bars.append(self)

    def update(self, n=1):
        self.count += n

    def set_postfix(self, ordered_dict=None, **kwargs):
        self.postfixes.append({**(ordered_dict or {}), **kwargs})

    def close(self):
        self.closed = True
        self.closed_after.append(self.count)  # the updates shown when it closed


@pytest.fixture
def fake_tqdm(monkeypatch):
    import tqdm.auto

    FakeBar.bars = []
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    return FakeBar.bars


def test_progress_true_shows_one_bar_counting_updates_with_rounded_scores(fake_tqdm):
    model = RNNLanguageModel(K, 4, rng=0)
    streams = batchify(TEXT_IDS, 4)
    hist = train_language_model(model, streams, seq_len=5, optimizer=SGD(0.1), steps=4, progress=True,
                                val_streams=streams[:, :30], eval_every=2)
    (bar,) = fake_tqdm
    assert (bar.total, bar.desc, bar.leave, bar.count, bar.closed) == (4, "training", False, 4, True)
    assert bar.closed_after == [4]  # closed once, after the last update
    assert [p["loss"] for p in bar.postfixes] == [round(v, 3) for v in hist["loss"]]
    assert [p.get("val_bpc") for p in bar.postfixes] == [None, round(hist["val_bpc"][0], 3),
                                                         None, round(hist["val_bpc"][1], 3)]
    x, y = balanced_brackets(12, 4, 0)
    hist = train_minibatches(RNNClassifier(2, 3, 2, rng=0), {"x": x, "y": y}, optimizer=SGD(0.1), steps=3,
                             batch_size=4, rng=0, progress=True)
    bar = fake_tqdm[1]
    assert (bar.total, bar.desc, bar.leave, bar.count, bar.closed) == (3, "training", False, 3, True)
    assert bar.closed_after == [3]
    assert [p["loss"] for p in bar.postfixes] == [round(v, 3) for v in hist["loss"]]


def test_progress_false_is_silent(fake_tqdm, capsys):
    model = RNNLanguageModel(K, 4, rng=0)
    train_language_model(model, batchify(TEXT_IDS, 4), seq_len=5, optimizer=SGD(0.1), steps=2, progress=False)
    x, y = balanced_brackets(12, 4, 0)
    train_minibatches(RNNClassifier(2, 3, 2, rng=0), {"x": x, "y": y}, optimizer=SGD(0.1), steps=2,
                      batch_size=4, rng=0, progress=False)
    assert fake_tqdm == [] and capsys.readouterr() == ("", "")


def test_progress_callable_sees_the_validation_score_after_each_evaluation():
    model = RNNLanguageModel(K, 4, rng=0)
    streams = batchify(TEXT_IDS, 4)
    seen = []
    hist = train_language_model(model, streams, seq_len=5, optimizer=SGD(0.1), steps=5,
                                val_streams=streams[:, :30], eval_every=2,
                                progress=lambda step, info: seen.append((step, dict(info))))
    assert [sorted(info) for _, info in seen] == [["loss"], ["loss", "val_bpc"], ["loss"],
                                                  ["loss", "val_bpc"], ["loss", "val_bpc"]]
    assert [info["val_bpc"] for _, info in seen if "val_bpc" in info] == hist["val_bpc"].tolist()


def test_validation_without_eval_every_runs_once_after_the_last_update():
    model = RNNLanguageModel(K, 4, rng=0)
    streams = batchify(TEXT_IDS, 4)
    hist = train_language_model(model, streams, seq_len=5, optimizer=SGD(0.1), steps=3, val_streams=streams)
    assert hist["val_step"].tolist() == [3]
    assert hist["val_bpc"][0] == pytest.approx(bits_per_char(model, streams), rel=1e-12)
    plain = train_language_model(model, streams, seq_len=5, optimizer=SGD(0.1), steps=2)
    assert plain["val_step"].dtype == np.int64 and plain["val_step"].shape == (0,)


def test_without_clipping_grad_norm_is_the_norm_of_the_stream_averaged_gradient():
    from rnnlib import global_norm

    streams = batchify(TEXT_IDS, 4)
    model, by_hand = RNNLanguageModel(K, 6, rng=1), RNNLanguageModel(K, 6, rng=1)
    hist = train_language_model(model, streams, seq_len=7, optimizer=SGD(0.5), steps=1)
    x, y = next(iter_chunks(streams, 7))
    _, grads, _ = by_hand.loss(x, y)
    assert hist["grad_norm"][0] == pytest.approx(global_norm({k: g / 4 for k, g in grads.items()}), rel=1e-12)


def test_float32_models_train_and_evaluate_in_float32():
    model = RNNLanguageModel(K, 4, rng=0, dtype=np.float32)
    streams = batchify(TEXT_IDS, 4)
    hist = train_language_model(model, streams, seq_len=5, optimizer=SGD(0.1), steps=3, val_streams=streams)
    assert np.isfinite(hist["loss"]).all() and {a.dtype for a in model.params.values()} == {np.dtype(np.float32)}
    assert 0 < bits_per_char(model, streams) < math.log2(K) + 1


def test_minibatch_training_clips_each_update_and_reports_the_norm_before_clipping():
    x, y = balanced_brackets(16, 4, 0)
    model, by_hand = RNNClassifier(2, 5, 2, rng=3), RNNClassifier(2, 5, 2, rng=3)
    hist = train_minibatches(model, {"x": x, "y": y}, optimizer=SGD(0.5), steps=3, batch_size=8, rng=4,
                             max_norm=0.01)
    order, opt = np.random.default_rng(4).permutation(16), SGD(0.5)
    for i, rows in enumerate([order[:8], order[8:], None]):
        if rows is None:  # a new epoch: a new permutation from the same generator
            break
        loss, grads = by_hand.loss(x[rows], y[rows])
        clipped, norm = clip_by_global_norm(grads, 0.01)
        assert hist["loss"][i] == pytest.approx(loss, rel=1e-12)
        assert hist["grad_norm"][i] == pytest.approx(norm, rel=1e-12) and norm > 0.01
        opt.step(by_hand.params, clipped)
    assert hist["grad_norm"].shape == (3,)


@pytest.mark.parametrize(("N", "batch_size"), [(8, 4), (8, 8), (8, 3)])
def test_every_minibatch_is_full_and_an_epoch_reads_each_row_at_most_once(N, batch_size):
    calls = []

    class Recorder:
        params = {"w": np.zeros(2)}

        def loss(self, a):
            calls.append(a.copy())
            return 1.0, {"w": np.ones(2)}

    per_epoch = N // batch_size
    train_minibatches(Recorder(), {"a": np.arange(N)}, optimizer=SGD(1.0), steps=2 * per_epoch,
                      batch_size=batch_size, rng=0)
    assert all(len(a) == batch_size for a in calls)
    for epoch in (calls[:per_epoch], calls[per_epoch:]):
        rows = np.concatenate(epoch)
        assert len(set(rows.tolist())) == len(rows) == per_epoch * batch_size


def test_seq2seq_exact_match_decodes_the_given_sources_with_their_lengths():
    src, src_lengths = np.array([[1, 2], [3, 4]]), np.array([2, 1])
    calls = []

    class Recorder:
        def greedy_decode(self, got_src, start_id, max_len, src_lengths=None, end_id=None):
            calls.append((got_src, src_lengths, start_id, max_len, end_id))
            return np.array([[1, 5, 11], [2, 11, 11]])

    tgt = np.array([[1, 5, 11], [2, 11, 4]])  # N = 2 examples of T = 3 steps
    mask = np.array([[1, 1, 1], [1, 1, 0]], dtype=bool)
    ok = seq2seq_exact_match(Recorder(), src, tgt, mask, start_id=10, end_id=11, src_lengths=src_lengths)
    assert ok.tolist() == [True, True]
    ((got_src, got_lengths, start_id, max_len, end_id),) = calls
    assert got_src is src and got_lengths is src_lengths and (start_id, max_len, end_id) == (10, 3, 11)


def test_unigram_reads_streams_of_any_shape_as_one_sequence():
    streams = batchify(TEXT_IDS[:63], 3)
    flat = unigram_bits_per_char(TEXT_IDS[:63], TEXT_IDS[:63], K)
    assert unigram_bits_per_char(streams, streams, K) == pytest.approx(flat, rel=1e-15)
    assert unigram_bits_per_char(TEXT_IDS[:63], streams, K) == pytest.approx(flat, rel=1e-15)
    # bit for bit, whatever the memory layout: a column-major view is read in row-major order
    ids = np.random.default_rng(0).integers(0, K, size=(1000, 3))
    in_order = np.ascontiguousarray(ids.T).reshape(-1)
    assert unigram_bits_per_char(ids, ids.T, K) == unigram_bits_per_char(ids, in_order, K)


def test_type_errors_say_what_came():
    model = RNNLanguageModel(K, 4, rng=0)
    streams = batchify(TEXT_IDS, 4)
    cases = [
        (lambda: train_language_model(model, streams, seq_len=5, optimizer="sgd", steps=1), "optimizer",
         "got str"),
        (lambda: train_language_model(model, streams, seq_len=5, optimizer=SGD(1), steps=1, progress="yes"),
         "progress", "got str"),
        (lambda: train_minibatches(model, (streams,), optimizer=SGD(1), steps=1, batch_size=1, rng=0), "data",
         "got tuple"),
        (lambda: train_minibatches(model, {"x": [1, 2]}, optimizer=SGD(1), steps=1, batch_size=1, rng=0),
         "data['x']", "got list"),
        (lambda: train_minibatches(model, {"x": np.array(1)}, optimizer=SGD(1), steps=1, batch_size=1, rng=0),
         "data['x']", "got ndarray"),
        (lambda: seq2seq_exact_match(None, [[1]], np.ones((1, 2), int), np.ones((1, 2), bool), start_id=0,
                                     end_id=1), "src", "got list"),
    ]
    for call, name, ending in cases:
        with raises_naming(TypeError, name) as info:
            call()
        assert str(info.value).endswith(ending), str(info.value)  # ...what came
    with raises_naming(ValueError, "src") as info:
        seq2seq_exact_match(None, np.zeros((3, 1), int), np.ones((2, 5), int), np.ones((2, 5), bool),
                            start_id=0, end_id=1)
    assert str(info.value).endswith("expected shape (2, ?), got shape (3, 1)")


# ---------------------------------------------- a diverged loss stops the loop --


class Diverging:
    """A model whose loss is finite for ``good`` calls, then ``bad`` (nan or inf)."""

    def __init__(self, good, bad, input_size=K, hidden_size=2):
        self.params = {"W": np.zeros((hidden_size, input_size))}
        self.input_size, self.hidden_size, self.calls, self.good, self.bad = input_size, hidden_size, 0, good, bad

    def loss(self, x, y=None, h0=None, reduction="sum"):
        self.calls += 1
        loss = 1.0 if self.calls <= self.good else self.bad
        return loss, {"W": np.ones_like(self.params["W"])}, h0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_loss_that_is_not_finite_stops_either_loop_naming_the_step(bad):
    model = Diverging(good=2, bad=bad)
    with raises_naming(ValueError, "loss") as info:
        train_language_model(model, batchify(TEXT_IDS, 4), seq_len=5, optimizer=SGD(0.1), steps=5)
    assert f"got {bad} at step 3 " in str(info.value)
    assert str(info.value) == (f"loss: expected a finite value, got {bad} at step 3 "
                               "(is the learning rate too large for the model?)")
    assert np.array_equal(model.params["W"], np.full((2, K), -0.05))  # two updates of 0.1 * 1 / B, not a third
    model = Diverging(good=0, bad=bad)
    with raises_naming(ValueError, "loss") as info:
        train_minibatches(model, {"x": np.arange(8)}, optimizer=SGD(0.1), steps=3, batch_size=2, rng=0)
    assert f"got {bad} at step 1 " in str(info.value)
    assert not model.params["W"].any()


def test_bits_per_char_reads_chunks_of_100_by_default():
    """The documented default seq_len=100, bit for bit (the chunk length moves the last digits)."""
    model = RNNLanguageModel(K, 8, rng=4)
    streams = batchify(TEXT_IDS, 1)  # (1, 320): chunks of 100 and 101 round differently
    assert bits_per_char(model, streams) == bits_per_char(model, streams, seq_len=100)


def test_language_model_loss_is_per_stream_whatever_the_models_default_reduction():
    """The loop asks the model for the summed loss and divides by B itself: a model whose loss
    averages by default trains and reports exactly as one that sums."""

    class MeanByDefault(RNNLanguageModel):
        def loss(self, x, y, h0=None, reduction="mean", **kwargs):
            return super().loss(x, y, h0=h0, reduction=reduction, **kwargs)

    streams = batchify(TEXT_IDS, 4)
    plain = RNNLanguageModel(K, 6, rng=1)
    other = MeanByDefault(K, 6, rng=1)
    runs = [train_language_model(m, streams, seq_len=7, optimizer=SGD(0.5), steps=3) for m in (plain, other)]
    assert np.array_equal(runs[0]["loss"], runs[1]["loss"])
    assert np.array_equal(runs[0]["grad_norm"], runs[1]["grad_norm"])


class Untrainable:
    """A model that fails the test if a loop gets as far as computing a loss."""

    def __init__(self):
        self.params, self.input_size, self.hidden_size = {"W": np.zeros((2, K))}, K, 2

    def loss(self, *args, **kwargs):
        raise AssertionError("the loop ran the model before checking its arguments")


@pytest.mark.parametrize("max_norm", [-1.0, 0.0, "1"])
def test_both_loops_check_max_norm_before_the_first_update(max_norm):
    error = TypeError if isinstance(max_norm, str) else ValueError
    with raises_naming(error, "max_norm"):
        train_language_model(Untrainable(), batchify(TEXT_IDS, 4), seq_len=5, optimizer=SGD(0.1), steps=2,
                             max_norm=max_norm)
    with raises_naming(error, "max_norm"):
        train_minibatches(Untrainable(), {"x": np.arange(8)}, optimizer=SGD(0.1), steps=2, batch_size=2, rng=0,
                          max_norm=max_norm)


def test_data_with_unequal_rows_says_how_many_rows_were_expected():
    data = {"x": np.zeros((4, 7)), "y": np.zeros((3, 7))}
    with raises_naming(ValueError, "data['y']") as info:
        train_minibatches(Untrainable(), data, optimizer=SGD(0.1), steps=1, batch_size=2, rng=0)
    assert str(info.value) == "data['y']: expected 4 rows like data['x'], got shape (3, 7)"


def test_minibatch_grad_norm_without_clipping_is_the_norm_of_each_gradient():
    class Fixed:
        params = {"W": np.zeros(2)}

        def loss(self, x):
            return 1.0, {"W": np.array([3.0, 4.0]) * x[0]}

    hist = train_minibatches(Fixed(), {"x": np.arange(1, 5)}, optimizer=SGD(0.1), steps=4, batch_size=1, rng=0)
    order = np.random.default_rng(0).permutation(4) + 1  # the row each update reads
    assert hist["grad_norm"].dtype == np.float64 and hist["grad_norm"].tolist() == (5.0 * order).tolist()
