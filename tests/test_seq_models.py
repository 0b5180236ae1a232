"""Many-to-one classifier and encoder-decoder: gradients, padding, decoding, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients, raises_naming
from hypothesis import given
from hypothesis import strategies as st

import rnnlib as r
from rnnlib import RNNClassifier, RNNLanguageModel, Seq2Seq


def classification_problem(B, T, D, H, C, seed, *, ids=True, padded=False):
    rng = np.random.default_rng(seed)
    model = RNNClassifier(D, H, C, rng=rng)
    x = rng.integers(0, D, size=(B, T)) if ids else rng.normal(size=(B, T, D))
    y = rng.integers(0, C, size=B)
    lengths = rng.integers(1, T + 1, size=B) if padded else None
    return model, x, y, lengths


def translation_problem(B, S_len, T, S, K, H, seed, *, ids=True, padded=False, masked=False):
    rng = np.random.default_rng(seed)
    model = Seq2Seq(S, K, H, rng=rng)
    src = rng.integers(0, S, size=(B, S_len)) if ids else rng.normal(size=(B, S_len, S))
    tgt = rng.integers(1, K, size=(B, T + 1))
    tgt[:, 0] = 0  # the start token
    src_lengths = rng.integers(1, S_len + 1, size=B) if padded else None
    mask = None
    if masked:
        mask = rng.random((B, T)) < 0.7
        mask[:, 0] = True
    return model, src, tgt[:, :-1], tgt[:, 1:], src_lengths, mask


# ------------------------------------------------------------ classifier --


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_classifier_passes_gradient_check(ids, padded, reduction):
    model, x, y, lengths = classification_problem(3, 5, 4, 3, 3, seed=10, ids=ids, padded=padded)
    loss, grads = model.loss(x, y, lengths, reduction=reduction)
    assert set(grads) == set(model.params)
    assert_gradients(lambda: model.loss(x, y, lengths, reduction=reduction)[0], model.params, grads)


@PROPERTY
@given(B=st.integers(1, 3), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4),
       C=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), ids=st.booleans(), padded=st.booleans())
def test_classifier_gradient_property(B, T, D, H, C, seed, ids, padded):
    model, x, y, lengths = classification_problem(B, T, D, H, C, seed, ids=ids, padded=padded)
    _, grads = model.loss(x, y, lengths)
    assert_gradients(lambda: model.loss(x, y, lengths)[0], model.params, grads)


def test_classifier_scores_the_last_hidden_state():
    model, x, y, _ = classification_problem(2, 6, 5, 4, 3, seed=11)
    p = model.params
    hs, _ = r.rnn_forward(x, None, p["W"], p["U"], p["b"])
    logits, cache = model.forward(x)
    assert logits.shape == (2, 3) and cache["h_last"].shape == (2, 4)
    np.testing.assert_allclose(logits, hs[:, -1] @ p["V"].T + p["b_y"], rtol=1e-14)
    probs = model.predict(x)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-14)
    loss, _ = model.loss(x, y)
    np.testing.assert_allclose(loss, -np.mean(np.log(probs[np.arange(2), y])), rtol=1e-13)
    assert np.isclose(model.loss(x, y, reduction="sum")[0], 2 * loss, rtol=1e-13)


def test_classifier_lengths_equal_running_each_sequence_alone():
    model, x, y, _ = classification_problem(3, 6, 5, 4, 3, seed=12)
    lengths = np.array([6, 2, 4])
    loss, grads = model.loss(x, y, lengths, reduction="sum")
    total, summed = 0.0, {k: 0.0 for k in grads}
    for i, n in enumerate(lengths):
        l_i, g_i = model.loss(x[i:i + 1, :n], y[i:i + 1], reduction="sum")
        total += l_i
        summed = {k: summed[k] + g_i[k] for k in summed}
    np.testing.assert_allclose(loss, total, rtol=1e-13)
    for k in grads:
        np.testing.assert_allclose(grads[k], summed[k], rtol=1e-12, atol=1e-15)
    # the padding after a sequence's end changes nothing
    changed = x.copy()
    changed[1, 2:] = (changed[1, 2:] + 1) % 5
    np.testing.assert_array_equal(model.predict(changed, lengths), model.predict(x, lengths))


def test_classifier_shares_the_language_models_initialisation():
    clf = RNNClassifier(5, 4, 3, rng=7, init_scale=0.1)
    lm = RNNLanguageModel(5, 4, 3, rng=7, init_scale=0.1)
    assert all(np.array_equal(clf.params[k], lm.params[k]) for k in lm.params)


def test_classifier_float32():
    model = RNNClassifier(4, 3, 2, rng=0, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32)
    loss, grads = model.loss(x, np.array([0, 1]), np.array([5, 3]))
    assert loss.dtype == np.float32 and {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    assert model.predict(x).dtype == np.float32


# --------------------------------------------------------------- seq2seq --


@pytest.mark.parametrize(("ids", "padded", "masked", "reduction"), [
    (True, False, False, "sum"),
    (True, True, True, "mean"),
    (False, True, False, "sum"),
    (False, False, True, "mean"),
])
def test_seq2seq_passes_gradient_check(ids, padded, masked, reduction):
    model, src, tgt_in, tgt_out, src_lengths, mask = translation_problem(
        2, 4, 3, 4, 5, 3, seed=20, ids=ids, padded=padded, masked=masked)
    loss, grads = model.loss(src, tgt_in, tgt_out, mask, reduction, src_lengths=src_lengths)
    assert set(grads) == {"enc_W", "enc_U", "enc_b", "dec_W", "dec_U", "dec_b", "dec_V", "dec_b_y"}
    assert set(grads) == set(model.params)

    def f():
        return model.loss(src, tgt_in, tgt_out, mask, reduction, src_lengths=src_lengths)[0]

    assert_gradients(f, model.params, grads)
    assert np.abs(grads["enc_W"]).max() > 1e-3  # the encoder really receives a gradient


@PROPERTY
@given(B=st.integers(1, 3), S_len=st.integers(1, 4), T=st.integers(1, 4), S=st.integers(1, 4),
       K=st.integers(2, 4), H=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       padded=st.booleans(), masked=st.booleans())
def test_seq2seq_gradient_property(B, S_len, T, S, K, H, seed, padded, masked):
    model, src, tgt_in, tgt_out, src_lengths, mask = translation_problem(
        B, S_len, T, S, K, H, seed, padded=padded, masked=masked)
    _, grads = model.loss(src, tgt_in, tgt_out, mask, src_lengths=src_lengths)
    assert_gradients(lambda: model.loss(src, tgt_in, tgt_out, mask, src_lengths=src_lengths)[0],
                     model.params, grads)


def test_seq2seq_is_an_encoder_state_starting_a_language_model():
    model, src, tgt_in, tgt_out, _, _ = translation_problem(2, 5, 4, 3, 6, 4, seed=21)
    p = model.params
    enc_hs, _ = r.rnn_forward(src, None, p["enc_W"], p["enc_U"], p["enc_b"])
    context, _ = model.encode(src)
    np.testing.assert_array_equal(context, enc_hs[:, -1])
    decoder = RNNLanguageModel(6, 4, rng=0)
    decoder.params = {k: p[f"dec_{k}"] for k in decoder.params}
    logits, cache = model.forward(src, tgt_in)
    assert logits.shape == (2, 4, 6)
    np.testing.assert_allclose(logits, decoder.forward(tgt_in, h0=context)[0], rtol=1e-14)
    np.testing.assert_array_equal(cache["context"], context)
    loss, grads = model.loss(src, tgt_in, tgt_out)
    lm_loss, lm_grads, _ = decoder.loss(tgt_in, tgt_out, h0=context)
    np.testing.assert_allclose(loss, lm_loss, rtol=1e-14)
    for k in lm_grads:
        np.testing.assert_allclose(grads[f"dec_{k}"], lm_grads[k], rtol=1e-13, atol=1e-16)


def test_seq2seq_src_lengths_ignore_the_padding():
    model, src, tgt_in, tgt_out, _, _ = translation_problem(2, 6, 3, 5, 4, 3, seed=22)
    src_lengths = np.array([3, 6])
    loss, grads = model.loss(src, tgt_in, tgt_out, src_lengths=src_lengths)
    alone, g_alone = model.loss(src[:1, :3], tgt_in[:1], tgt_out[:1])
    other, g_other = model.loss(src[1:], tgt_in[1:], tgt_out[1:])
    np.testing.assert_allclose(loss, alone + other, rtol=1e-13)
    for k in grads:
        np.testing.assert_allclose(grads[k], g_alone[k] + g_other[k], rtol=1e-12, atol=1e-15)


def test_greedy_decode_feeds_back_the_arg_max():
    model, src, _, _, _, _ = translation_problem(3, 4, 2, 5, 6, 4, seed=23)
    out = model.greedy_decode(src, start_id=0, max_len=5)
    assert out.shape == (3, 5) and out.dtype == np.int64
    tgt_in = np.zeros((3, 1), dtype=np.int64)
    for t in range(5):  # a slow but obvious decoder: re-run teacher forcing on its own outputs
        logits, _ = model.forward(src, tgt_in)
        np.testing.assert_array_equal(out[:, t], logits[:, -1].argmax(axis=-1))
        tgt_in = np.concatenate([tgt_in, out[:, t:t + 1]], axis=1)
    assert np.array_equal(model.greedy_decode(src, 0, 5), out)
    assert model.greedy_decode(src, 0, 0).shape == (3, 0)


def test_greedy_decode_pads_after_the_end_token():
    model, src, _, _, _, _ = translation_problem(4, 3, 2, 5, 3, 4, seed=24)
    raw = model.greedy_decode(src, 0, 8)
    end = int(raw[0, 0])  # an id the first sequence produces first, so it surely appears
    out = model.greedy_decode(src, 0, 8, end_id=end)
    for row_raw, row in zip(raw, out, strict=True):
        hits = np.flatnonzero(row_raw == end)
        stop = hits[0] if hits.size else len(row)
        np.testing.assert_array_equal(row[:stop], row_raw[:stop])
        assert np.all(row[stop:] == end)


def test_greedy_decode_keeps_the_ids_before_the_first_end_token_and_pads_after_it():
    rng = np.random.default_rng(25)
    model = Seq2Seq(5, 6, 8, rng=rng, init_scale=1.0)  # weights large enough for varied outputs
    src = rng.integers(0, 5, size=(6, 4))
    raw = model.greedy_decode(src, 0, 10)
    end = int(raw[0, 1])
    out = model.greedy_decode(src, 0, 10, end_id=end)
    expected = raw.copy()
    for row in expected:
        hits = np.flatnonzero(row == end)
        if hits.size:
            row[hits[0]:] = end
    np.testing.assert_array_equal(out, expected)
    # The case the rule is for: ids before the first end token, and other ids after it.
    assert raw[0, 0] != end and np.any(raw[0, 2:] != end)


def test_greedy_decode_reads_each_source_up_to_its_length():
    model, src, _, _, _, _ = translation_problem(2, 5, 2, 4, 6, 4, seed=26)
    src_lengths = np.array([2, 5])
    together = model.greedy_decode(src, 0, 6, src_lengths=src_lengths)
    np.testing.assert_array_equal(together[:1], model.greedy_decode(src[:1, :2], 0, 6))
    np.testing.assert_array_equal(together[1:], model.greedy_decode(src[1:], 0, 6))
    assert not np.array_equal(model.encode(src, src_lengths)[0], model.encode(src)[0])


def test_greedy_decode_without_the_lengths_would_read_the_padding_as_source():
    """A problem where the padding would change the output: src_lengths must reach the encoder."""
    model, src, _, _, _, _ = translation_problem(2, 5, 2, 4, 6, 4, seed=40)
    src_lengths = np.array([2, 5])
    together = model.greedy_decode(src, 0, 6, src_lengths=src_lengths)
    np.testing.assert_array_equal(together[:1], model.greedy_decode(src[:1, :2], 0, 6))
    assert not np.array_equal(together[:1], model.greedy_decode(src[:1], 0, 6))


def test_seq2seq_mean_loss_divides_the_sum_by_the_unmasked_steps():
    model, src, tgt_in, tgt_out, _, mask = translation_problem(3, 4, 5, 3, 6, 4, seed=27, masked=True)
    total, grads = model.loss(src, tgt_in, tgt_out, mask=mask)
    mean, mean_grads = model.loss(src, tgt_in, tgt_out, mask=mask, reduction="mean")
    np.testing.assert_allclose(mean, total / mask.sum(), rtol=1e-13)
    for k in grads:
        np.testing.assert_allclose(mean_grads[k], grads[k] / mask.sum(), rtol=1e-12, atol=1e-16)


def test_seq2seq_parts_are_drawn_as_language_models_are():
    """Encoder, then decoder, each as RNNLanguageModel draws it from the same generator
    (the encoder as a model with one output class, whose V and b_y are not used)."""
    for init_scale in (None, 0.3):
        model = Seq2Seq(4, 6, 5, rng=8, init_scale=init_scale)
        rng = np.random.default_rng(8)
        enc = RNNLanguageModel(4, 5, 1, rng=rng, init_scale=init_scale)
        dec = RNNLanguageModel(6, 5, 6, rng=rng, init_scale=init_scale)
        for k in ("W", "U", "b"):
            np.testing.assert_array_equal(model.params[f"enc_{k}"], enc.params[k])
        for k in dec.params:
            np.testing.assert_array_equal(model.params[f"dec_{k}"], dec.params[k])


def test_a_classifier_checks_labels_and_score_gradients_against_its_own_sizes():
    model = RNNClassifier(4, 3, 2, rng=0)  # made here, not at import: what __init__ stores matters
    x = np.array([[0, 1, 2], [3, 2, 1]])
    with raises_naming(ValueError, "y"):
        model.loss(x, np.array([0, 2]))
    _, cache = model.forward(x)
    with raises_naming(ValueError, "dlogits"):
        model.backward(np.zeros((2, 3)), cache)
    with raises_naming(ValueError, "dlogits"):
        model.backward(np.zeros((3, 2)), cache)


def test_seq2seq_float32():
    model = Seq2Seq(3, 4, 2, rng=0, dtype=np.float32)
    src = np.array([[0, 1, 2]])
    loss, grads = model.loss(src, np.array([[0, 1]]), np.array([[1, 2]]), reduction="mean")
    assert loss.dtype == np.float32 and {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    assert model.greedy_decode(src, 0, 3).shape == (1, 3)


# ------------------------------------------------ determinism, aliasing --


@pytest.mark.parametrize("make", [lambda rng: RNNClassifier(4, 3, 2, rng=rng),
                                  lambda rng: Seq2Seq(4, 5, 3, rng=rng)])
def test_initialisation_is_seeded(make):
    a, b, c = make(3), make(np.random.default_rng(3)), make(4)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not all(np.array_equal(a.params[k], c.params[k]) for k in a.params)
    assert len({id(p) for p in a.params.values()}) == len(a.params)  # no two keys share an array


def test_classifier_outputs_do_not_alias_its_cache_or_inputs():
    model, x, y, _ = classification_problem(2, 4, 5, 3, 3, seed=30)
    lengths = np.array([4, 2])
    x0, lengths0 = x.copy(), lengths.copy()
    params0 = {k: a.copy() for k, a in model.params.items()}
    dlogits = np.random.default_rng(0).normal(size=(2, 3))
    logits, cache = model.forward(x, lengths)
    g1 = model.backward(dlogits, cache)
    logits[...] = 0.0  # outputs may be overwritten (inputs and parameters must not be, until backward)
    cache["h_last"][...] = 0.0
    g2 = model.backward(dlogits, cache)
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)
    model.loss(x0, y, lengths0)
    assert all(np.array_equal(model.params[k], params0[k]) for k in params0)


def test_seq2seq_outputs_do_not_alias_its_cache_or_inputs():
    model, src, tgt_in, tgt_out, _, _ = translation_problem(2, 3, 4, 3, 5, 3, seed=31)
    src_lengths = np.array([3, 1])
    params0 = {k: a.copy() for k, a in model.params.items()}
    src0, tgt_in0, tgt_out0 = src.copy(), tgt_in.copy(), tgt_out.copy()
    dlogits = np.random.default_rng(1).normal(size=(2, 4, 5))
    logits, cache = model.forward(src, tgt_in, src_lengths)
    g1 = model.backward(dlogits, cache)
    logits[...] = 0.0  # outputs may be overwritten (inputs and parameters must not be, until backward)
    cache["context"][...] = 0.0
    g2 = model.backward(dlogits, cache)
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)
    model.loss(src, tgt_in, tgt_out)
    model.greedy_decode(src, 0, 4)
    assert all(np.array_equal(model.params[k], params0[k]) for k in params0)
    assert np.array_equal(src, src0) and np.array_equal(tgt_in, tgt_in0) and np.array_equal(tgt_out, tgt_out0)


# -------------------------------------------------------------- bad input --

clf = RNNClassifier(4, 3, 2, rng=0)
s2s = Seq2Seq(4, 5, 3, rng=0)
x_ids = np.array([[0, 1, 2], [3, 2, 1]])
labels = np.array([0, 1])
tgt = np.array([[0, 1], [0, 2]])

BAD = [
    ("num_classes 0", lambda: RNNClassifier(4, 3, 0, rng=0), ValueError, "num_classes"),
    ("num_classes float", lambda: RNNClassifier(4, 3, 2.0, rng=0), TypeError, "num_classes"),
    ("hidden_size 0", lambda: RNNClassifier(4, 0, 2, rng=0), ValueError, "hidden_size"),
    ("int dtype", lambda: RNNClassifier(4, 3, 2, rng=0, dtype=np.int64), TypeError, "dtype"),
    ("no seed", lambda: RNNClassifier(4, 3, 2, rng=None), TypeError, "rng"),
    ("x id too large", lambda: clf.loss(x_ids + 4, labels), ValueError, "x"),
    ("x float ids", lambda: clf.forward(x_ids.astype(float)), TypeError, "x"),
    ("y too large", lambda: clf.loss(x_ids, labels + 2), ValueError, "y"),
    ("y wrong shape", lambda: clf.loss(x_ids, labels[:, None]), ValueError, "y"),
    ("y per step", lambda: clf.loss(x_ids, x_ids % 2), ValueError, "y"),
    ("lengths 0", lambda: clf.loss(x_ids, labels, np.array([0, 3])), ValueError, "lengths"),
    ("lengths > T", lambda: clf.loss(x_ids, labels, np.array([4, 3])), ValueError, "lengths"),
    ("lengths float", lambda: clf.loss(x_ids, labels, np.array([3.0, 3.0])), TypeError, "lengths"),
    ("lengths list", lambda: clf.predict(x_ids, [3, 3]), TypeError, "lengths"),
    ("lengths wrong shape", lambda: clf.predict(x_ids, np.array([3])), ValueError, "lengths"),
    ("reduction", lambda: clf.loss(x_ids, labels, reduction="avg"), ValueError, "reduction"),
    ("dlogits shape", lambda: clf.backward(np.zeros((2, 3)), clf.forward(x_ids)[1]), ValueError, "dlogits"),
    ("src_size 0", lambda: Seq2Seq(0, 5, 3, rng=0), ValueError, "src_size"),
    ("tgt_vocab 0", lambda: Seq2Seq(4, 0, 3, rng=0), ValueError, "tgt_vocab"),
    ("src id too large", lambda: s2s.loss(x_ids + 4, tgt, tgt), ValueError, "src"),
    ("tgt_in too large", lambda: s2s.loss(x_ids, tgt + 5, tgt), ValueError, "tgt_in"),
    ("tgt_in batch", lambda: s2s.loss(x_ids, tgt[:1], tgt[:1]), ValueError, "tgt_in"),
    ("tgt_out shape", lambda: s2s.loss(x_ids, tgt, tgt[:, :1]), ValueError, "tgt_out"),
    ("tgt_out float", lambda: s2s.loss(x_ids, tgt, tgt.astype(float)), TypeError, "tgt_out"),
    ("tgt_out too large", lambda: s2s.loss(x_ids, tgt, tgt + 5), ValueError, "tgt_out"),
    ("seq2seq hidden_size 0", lambda: Seq2Seq(4, 5, 0, rng=0), ValueError, "hidden_size"),
    ("mask shape", lambda: s2s.loss(x_ids, tgt, tgt, mask=np.ones((2, 3))), ValueError, "mask"),
    ("src_lengths", lambda: s2s.encode(x_ids, np.array([1, 4])), ValueError, "src_lengths"),
    ("start_id too large", lambda: s2s.greedy_decode(x_ids, 5, 3), ValueError, "start_id"),
    ("start_id negative", lambda: s2s.greedy_decode(x_ids, -1, 3), ValueError, "start_id"),
    ("end_id float", lambda: s2s.greedy_decode(x_ids, 0, 3, end_id=1.0), TypeError, "end_id"),
    ("max_len negative", lambda: s2s.greedy_decode(x_ids, 0, -1), ValueError, "max_len"),
]


@pytest.mark.parametrize(("call", "error", "argument"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_names_the_argument(call, error, argument):
    with raises_naming(error, argument):
        call()


def test_lengths_errors_say_what_came():
    with raises_naming(TypeError, "lengths") as info:
        clf.predict(x_ids, [3, 3])
    assert str(info.value).endswith("got list")
    with raises_naming(TypeError, "lengths") as info:
        clf.predict(x_ids, np.array([3.0, 3.0]))
    assert str(info.value).endswith("dtype float64")
