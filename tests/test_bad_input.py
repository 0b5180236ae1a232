"""Every class of bad input raises ValueError or TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import raises_naming

import rnnlib as r

rng = np.random.default_rng(0)
B, T, D, H, K = 2, 3, 4, 5, 6
x_ids = rng.integers(0, D, size=(B, T))
x_f = rng.normal(size=(B, T, D))
h0 = rng.normal(size=(B, H))
W, U, b = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=H)
V, b_y = rng.normal(size=(K, H)), rng.normal(size=K)
logits, targets = rng.normal(size=(B, T, K)), rng.integers(0, K, size=(B, T))
hs, cache = r.rnn_forward(x_f, h0, W, U, b)
_, step_cache = r.rnn_step_forward(x_f[:, 0], h0, W, U, b)
model = r.RNNLanguageModel(D, H, K, rng=0)
square_model = r.RNNLanguageModel(D, H, rng=0)


def with_nan(a, value=np.nan):
    a = a.copy()
    a.flat[0] = value
    return a


# (id, call, error type, the argument the message must name)
CASES = [
    # wrong rank or shape
    ("x rank 4", lambda: r.rnn_forward(x_f[None], h0, W, U, b), TypeError, "x"),
    ("x wrong D", lambda: r.rnn_forward(x_f[..., :2], h0, W, U, b), ValueError, "x"),
    ("W rank 1", lambda: r.rnn_forward(x_f, h0, b, U, b), ValueError, "W"),
    ("U not square", lambda: r.rnn_forward(x_f, h0, W, U[:, :2], b), ValueError, "U"),
    ("b wrong length", lambda: r.rnn_forward(x_f, h0, W, U, b[:2]), ValueError, "b"),
    ("dhs wrong shape", lambda: r.rnn_backward(hs[:, :2], cache), ValueError, "dhs"),
    ("dh_t wrong shape", lambda: r.rnn_step_backward(h0[:, :2], step_cache), ValueError, "dh_t"),
    ("x_t rank 3", lambda: r.rnn_step_forward(x_f, h0, W, U, b), TypeError, "x_t"),
    ("V vs h", lambda: r.affine_forward(hs, V[:, :2], b_y), ValueError, "h"),
    ("V rank 1", lambda: r.affine_forward(hs, b_y, b_y), ValueError, "V"),
    ("b_y wrong length", lambda: r.affine_forward(hs, V, b_y[:2]), ValueError, "b_y"),
    ("h no sequences", lambda: r.affine_forward(hs[:0], V, b_y), ValueError, "h"),
    ("h rank 4", lambda: r.affine_forward(hs[None], V, b_y), ValueError, "h"),
    ("dz wrong shape", lambda: r.affine_backward(logits[..., :2], r.affine_forward(hs, V, b_y)[1]),
     ValueError, "dz"),
    ("logits rank 2", lambda: r.sequence_cross_entropy(logits[0], targets), ValueError, "logits"),
    ("not an array", lambda: r.rnn_forward(x_f, h0, W.tolist(), U, b), TypeError, "W"),
    # float ids, ids out of range
    ("float ids", lambda: r.rnn_forward(x_ids.astype(float), h0, W, U, b), TypeError, "x"),
    ("float ids, model", lambda: model.forward(x_ids.astype(float)), TypeError, "x"),
    ("float targets", lambda: r.sequence_cross_entropy(logits, targets.astype(float)),
     TypeError, "targets"),
    ("id too large", lambda: r.rnn_forward(x_ids + D, h0, W, U, b), ValueError, "x"),
    ("id negative", lambda: r.rnn_forward(x_ids - D, h0, W, U, b), ValueError, "x"),
    ("target too large", lambda: r.sequence_cross_entropy(logits, targets + K), ValueError,
     "targets"),
    ("y too large", lambda: model.loss(x_ids, targets + K), ValueError, "y"),
    # the loss's paths: the fast one (ids, full BPTT, no mask) and the shown functions
    ("y too large, mask", lambda: model.loss(x_ids, targets + K, mask=np.ones((B, T), bool)), ValueError, "y"),
    ("y too large, truncate", lambda: model.loss(x_ids, targets + K, truncate=1), ValueError, "y"),
    ("y too large, chunk", lambda: model.loss(x_ids, targets + K, chunk=2), ValueError, "y"),
    ("y too large, floats", lambda: model.loss(x_f, targets + K), ValueError, "y"),
    ("y batch, floats", lambda: model.loss(x_f, targets[:1]), ValueError, "y"),
    ("y floats, mask", lambda: model.loss(x_ids, targets * 1.0, mask=np.ones((B, T), bool)), TypeError, "y"),
    ("reduction, model", lambda: model.loss(x_ids, targets, reduction="avg"), ValueError, "reduction"),
    ("step id too large", lambda: r.rnn_step_forward(x_ids[:, 0] + D, h0, W, U, b), ValueError,
     "x_t"),
    # truncate and chunk
    ("truncate negative", lambda: r.rnn_backward(hs, cache, truncate=-1), ValueError, "truncate"),
    ("truncate float", lambda: r.rnn_backward(hs, cache, truncate=1.5), TypeError, "truncate"),
    ("truncate bool", lambda: r.rnn_backward(hs, cache, truncate=True), TypeError, "truncate"),
    ("chunk zero", lambda: r.rnn_backward(hs, cache, chunk=0), ValueError, "chunk"),
    ("tbptt k2 < k1", lambda: r.rnn_backward(hs, cache, tbptt=(3, 2)), ValueError, "tbptt"),
    ("tbptt not a pair", lambda: r.rnn_backward(hs, cache, tbptt=3), TypeError, "tbptt"),
    ("tbptt zero", lambda: r.rnn_backward(hs, cache, tbptt=(0, 2)), ValueError, "tbptt"),
    ("return_deltas not a bool", lambda: r.rnn_backward(hs, cache, return_deltas=1), TypeError,
     "return_deltas"),
    ("tbptt with chunk", lambda: r.rnn_backward(hs, cache, tbptt=(1, 2), chunk=2), ValueError,
     "tbptt"),
    ("chunk float", lambda: model.loss(x_ids, targets, chunk=2.0), TypeError, "chunk"),
    # NaN or inf
    # parameters are not scanned: a NaN in W (or a NaN gradient, which puts one there)
    # is found in the scores it produces, which sequence_cross_entropy scans
    ("NaN in W, training", lambda: r.train_language_model(
        r.RNNLanguageModel.from_params({**model.params, "W": with_nan(model.params["W"])}),
        np.tile(np.arange(D), (B, 3)), seq_len=T, optimizer=r.SGD(0.1), steps=2),
     ValueError, "logits"),
    ("inf in x", lambda: r.rnn_forward(with_nan(x_f, np.inf), h0, W, U, b), ValueError, "x"),
    ("NaN in h0", lambda: r.rnn_forward(x_f, with_nan(h0), W, U, b), ValueError, "h0"),
    ("NaN in dhs", lambda: r.rnn_backward(with_nan(hs), cache), ValueError, "dhs"),
    ("inf in logits", lambda: r.sequence_cross_entropy(with_nan(logits, np.inf), targets),
     ValueError, "logits"),
    ("NaN in softmax", lambda: r.softmax(with_nan(logits)), ValueError, "z"),
    # mismatched batch sizes
    ("h0 batch", lambda: r.rnn_forward(x_f, h0[:1], W, U, b), ValueError, "h0"),
    ("h_prev batch", lambda: r.rnn_step_forward(x_f[:, 0], h0[:1], W, U, b), ValueError, "h_prev"),
    ("targets batch", lambda: r.sequence_cross_entropy(logits, targets[:1]), ValueError, "targets"),
    ("y batch", lambda: model.loss(x_ids, targets[:1]), ValueError, "y"),
    ("mask batch", lambda: r.sequence_cross_entropy(logits, targets, mask=np.ones((1, T))),
     ValueError, "mask"),
    ("model h0 batch", lambda: model.forward(x_ids, h0=h0[:1]), ValueError, "h0"),
    # empty sequences
    ("no steps", lambda: r.rnn_forward(x_ids[:, :0], None, W, U, b), ValueError, "x"),
    ("no sequences", lambda: r.rnn_forward(x_f[:0], None, W, U, b), ValueError, "x"),
    ("no steps, model", lambda: model.loss(x_ids[:, :0], targets[:, :0]), ValueError, "x"),
    ("no steps, loss", lambda: r.sequence_cross_entropy(logits[:, :0], targets[:, :0]),
     ValueError, "logits"),
    ("empty step batch", lambda: r.rnn_step_forward(x_ids[:0, 0], h0[:0], W, U, b), ValueError,
     "x_t"),
    # mixed dtypes: no silent upcast
    ("float32 W", lambda: r.rnn_forward(x_f, h0, W.astype(np.float32), U, b), TypeError,
     "U"),  # U differs from the first parameter's dtype, float32
    ("float32 dhs", lambda: r.rnn_backward(hs.astype(np.float32), cache), TypeError, "dhs"),
    ("float32 dh_t", lambda: r.rnn_step_backward(h0.astype(np.float32), step_cache), TypeError,
     "dh_t"),
    ("float32 dz", lambda: r.affine_backward(logits.astype(np.float32), r.affine_forward(hs, V, b_y)[1]),
     TypeError, "dz"),
    ("int params", lambda: r.rnn_forward(x_f, h0, W.astype(int), U, b), TypeError, "W"),
    # options
    ("reduction", lambda: r.sequence_cross_entropy(logits, targets, reduction="avg"), ValueError,
     "reduction"),
    ("mask values", lambda: r.sequence_cross_entropy(logits, targets, mask=np.full((B, T), 2.0)),
     ValueError, "mask"),
    ("mean of nothing", lambda: r.sequence_cross_entropy(logits, targets, mask=np.zeros((B, T)),
                                                         reduction="mean"), ValueError, "mask"),
    ("rng legacy", lambda: r.RNNLanguageModel(D, H, rng=np.random.RandomState(0)), TypeError,
     "rng"),
    ("rng missing for sampling", lambda: square_model.sample(x_ids, 2, None), TypeError, "rng"),
    ("hidden_size zero", lambda: r.RNNLanguageModel(D, 0, rng=0), ValueError, "hidden_size"),
    ("input_size zero", lambda: r.RNNLanguageModel(0, H, rng=0), ValueError, "input_size"),
    ("output_size float", lambda: r.RNNLanguageModel(D, H, 2.0, rng=0), TypeError, "output_size"),
    ("init_scale negative", lambda: r.RNNLanguageModel(D, H, rng=0, init_scale=-0.1), ValueError,
     "init_scale"),
    ("dtype int", lambda: r.RNNLanguageModel(D, H, rng=0, dtype=np.int32), TypeError, "dtype"),
    ("n negative", lambda: square_model.sample(x_ids, -1, 0), ValueError, "n"),
    ("temperature zero", lambda: square_model.sample(x_ids, 2, 0, temperature=0.0), ValueError,
     "temperature"),
    ("seed_ids rank 3", lambda: square_model.sample(x_ids[None], 2, 0), ValueError, "seed_ids"),
    ("seed_ids id too large", lambda: square_model.sample(x_ids + D, 2, 0), ValueError, "seed_ids"),
    ("h0 of one sequence", lambda: square_model.predict(x_ids[0], h0[0, :2]), ValueError, "h0"),
    ("lr negative", lambda: r.SGD(-0.1), ValueError, "lr"),
    ("adagrad lr", lambda: r.Adagrad(0.0), ValueError, "lr"),
    ("params not arrays", lambda: r.SGD(0.1).step({"W": W.tolist()}, {"W": W}), TypeError, "params"),
    ("adagrad params", lambda: r.Adagrad(0.1).step([W], {"W": W}), TypeError, "params"),
    ("norm of lists", lambda: r.global_norm({"W": W.tolist()}), TypeError, "grads"),
    ("adagrad eps", lambda: r.Adagrad(0.1, eps=0), ValueError, "eps"),
    ("grads keys", lambda: r.Adagrad(0.1).step({"W": W.copy()}, {"U": U}), ValueError, "grads"),
    ("grads shape", lambda: r.SGD(0.1).step({"W": W.copy()}, {"W": U}), ValueError, "grads"),
    ("max_norm zero", lambda: r.clip_by_global_norm({"W": W}, 0.0), ValueError, "max_norm"),
    ("expected_shapes", lambda: r.load_params("p.npz", expected_shapes=[1]), TypeError,
     "expected_shapes"),
    ("gradcheck eps", lambda: r.numerical_gradient(lambda: 0.0, W.copy(), eps=-1.0), ValueError,
     "eps"),
    ("gradcheck order", lambda: r.numerical_gradient(lambda: 0.0, W.copy(), order=3), ValueError,
     "order"),
]

@pytest.mark.parametrize(("call", "error", "name"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(call, error, name):
    with raises_naming(error, name) as info:
        call()
    assert "expected" in str(info.value)


# Mixed float dtypes: every float argument is compared with the first one checked, so
# one argument alone in float32 is named, or, when it is that first one, the next one is
# named with the first as the dtype it expected.
MIXED = [
    (r.rnn_forward, {"W": W, "U": U, "b": b, "h0": h0, "x": x_f}),
    (r.rnn_step_forward, {"W": W, "U": U, "b": b, "h_prev": h0, "x_t": x_f[:, 0]}),
    (r.affine_forward, {"h": x_f, "V": V[:, :D], "b_y": b_y}),  # x_f as D-wide states
]


@pytest.mark.parametrize(("function", "args", "odd"),
                         [(f, args, odd) for f, args in MIXED for odd in args],
                         ids=[f"{f.__name__} {odd}" for f, args in MIXED for odd in args])
def test_one_float32_argument_among_float64_names_it(function, args, odd):
    first, second = list(args)[:2]
    with raises_naming(TypeError, second if odd == first else odd) as info:
        function(**{**args, odd: args[odd].astype(np.float32)})
    assert f"(the dtype of {first})" in str(info.value)


def test_messages_say_what_was_expected_and_what_came():
    with pytest.raises(ValueError) as info:
        r.rnn_forward(x_f, h0[:1], W, U, b)
    assert str(info.value) == "h0: expected shape (2, 5), got shape (1, 5)"
    with pytest.raises(ValueError) as info:
        r.rnn_forward(x_ids + D, h0, W, U, b)
    assert str(info.value).startswith("x: expected ids in [0, 4), got values from 4 to")
    with pytest.raises(ValueError) as info:
        r.sequence_cross_entropy(logits, targets, mask=np.zeros((B, T)), reduction="mean")
    assert str(info.value).endswith("for reduction='mean', got none")
