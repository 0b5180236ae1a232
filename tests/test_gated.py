"""Chapter 7's classifier over cuDNN's cells, its state gradients and the marked-symbol task."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients, raises_naming
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import CellClassifier, marked_symbol_task
from rnnlib.cudnn import MODES
from rnnlib.gated import backward_states

seeds = st.integers(0, 2**32 - 1)
shapes = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
                   st.integers(1, 3))  # B, T, D, H, C


def scaled(model, scale, rng):
    """Weights large enough that the gates leave their linear range (a stricter check)."""
    for a in model.params.values():
        a[...] = scale * rng.normal(size=a.shape)
    return model


@PROPERTY
@given(shape=shapes, mode=st.sampled_from(MODES), seed=seeds, ids=st.booleans())
def test_cell_classifier_passes_gradient_check(shape, mode, seed, ids):
    B, T, D, H, C = shape
    rng = np.random.default_rng(seed)
    model = scaled(CellClassifier(mode, D, H, C, rng=rng), 0.7, rng)
    x = rng.integers(0, D, size=(B, T)) if ids else rng.normal(size=(B, T, D))
    y = rng.integers(0, C, size=B)
    loss, grads = model.loss(x, y, reduction="sum")
    assert set(grads) == set(model.params)
    assert_gradients(lambda: model.loss(x, y, reduction="sum")[0], model.params, grads)
    # the mean is the sum over the batch divided by B, gradients too
    mean, g_mean = model.loss(x, y)
    assert mean == pytest.approx(loss / B, rel=1e-12)
    assert all(np.allclose(g_mean[k], grads[k] / B, rtol=1e-12, atol=0) for k in grads)


@PROPERTY
@given(shape=shapes, mode=st.sampled_from(MODES), seed=seeds)
def test_state_gradients_are_the_derivatives_of_the_loss_by_each_state(shape, mode, seed):
    """G[:, 0] is the gradient of the summed loss with respect to the initial state h_0 (by finite
    differences, through every step), G[:, T] is V^T dL/dz, and backward_states gives the same G."""
    B, T, D, H, C = shape
    rng = np.random.default_rng(seed)
    model = scaled(CellClassifier(mode, D, H, C, rng=rng), 0.7, rng)
    x, y = rng.normal(size=(B, T, D)), rng.integers(0, C, size=B)
    G = model.state_gradients(x, y)
    assert G.shape == (B, T + 1, H)
    from rnnlib import cudnn_rnn_forward
    from rnnlib.loss import sequence_cross_entropy

    def loss_from(h0):
        _, h_n, _, _ = cudnn_rnn_forward(x, h0[None], None, [model.cell_params()], mode)
        logits = h_n[0] @ model.params["V"].T + model.params["b_y"]
        return sequence_cross_entropy(logits[:, None], y[:, None], reduction="sum")[0]

    h0 = np.zeros((B, H))
    assert_gradients(lambda: loss_from(h0), {"h0": h0}, {"h0": G[:, 0]})
    logits, cache = model.forward(x)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(B), y] -= 1
    assert np.allclose(G[:, T], p @ model.params["V"], rtol=1e-12, atol=1e-14)
    assert np.array_equal(backward_states(G[:, T], cache["rnn"]), G)


def test_forget_bias_sets_the_forget_gate_biases_only():
    a = CellClassifier("lstm", 3, 4, 2, rng=5)
    b = CellClassifier("lstm", 3, 4, 2, rng=5, forget_bias=1.0)
    assert np.all(b.params["bW_f"] == 1.0) and np.all(b.params["bR_f"] == 0.0)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params if k not in ("bW_f", "bR_f"))
    assert set(a.params) == {"W_i", "W_f", "W_g", "W_o", "R_i", "R_f", "R_g", "R_o", "bW_i", "bW_f", "bW_g",
                             "bW_o", "bR_i", "bR_f", "bR_g", "bR_o", "V", "b_y"}
    bound = 1 / np.sqrt(4)
    assert all(np.abs(v).max() <= bound for k, v in a.params.items())
    assert a.params["V"].shape == (2, 4) and a.params["b_y"].shape == (2,)


def test_ids_are_one_hot_inputs():
    model = CellClassifier("gru", 5, 3, 2, rng=0)
    ids = np.array([[1, 4, 0], [2, 2, 3]])
    assert np.array_equal(model.forward(ids)[0], model.forward(np.eye(5)[ids])[0])
    probs = model.predict(ids)
    assert np.allclose(probs.sum(1), 1.0)
    y = probs.argmax(1)
    assert model.accuracy(ids, y) == 1.0
    assert model.accuracy(ids, (y + 1) % 2) == 0.0


def test_an_lstm_learns_to_keep_the_marked_symbol():
    """A small training run: the loss falls well below chance, ln 4."""
    from rnnlib import Adagrad, train_minibatches

    x, y, _ = marked_symbol_task(512, 8, 0)
    model = CellClassifier("lstm", 9, 16, 4, rng=0, forget_bias=1.0)
    history = train_minibatches(model, {"x": x, "y": y}, optimizer=Adagrad(0.1), steps=150, batch_size=32,
                                rng=1, max_norm=5.0)
    assert history["loss"][:10].mean() > 1.3
    assert history["loss"][-10:].mean() < 0.3
    x_test, y_test, _ = marked_symbol_task(2000, 8, 99)  # fresh sequences, another seed
    assert model.accuracy(x_test, y_test) > 0.9  # chance is 1/4


@PROPERTY
@given(n=st.integers(1, 50), T=st.integers(1, 30), C=st.integers(1, 4), extra=st.integers(0, 4), seed=seeds)
def test_marked_symbol_task_marks_one_step_holding_the_label(n, T, C, extra, seed):
    K = C + extra
    x, y, d = marked_symbol_task(n, T, seed, num_classes=C, num_symbols=K)
    assert x.shape == (n, T, K + 1) and x.dtype == np.float64
    assert np.all(x[..., :K].sum(-1) == 1) and np.all(x[..., K].sum(-1) == 1)
    assert np.all((d >= 1) & (d <= T)) and np.all((y >= 0) & (y < C))
    assert np.array_equal(np.argmax(x[..., K], axis=1), T - d)
    assert np.array_equal(x[np.arange(n), T - d, :K].argmax(-1), y)
    again = marked_symbol_task(n, T, seed, num_classes=C, num_symbols=K)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, d), again, strict=True))


def test_marked_symbol_task_draws_distances_and_noise_uniformly():
    x, y, d = marked_symbol_task(20000, 10, 3)
    assert np.allclose(np.bincount(d, minlength=11)[1:] / 20000, 0.1, atol=0.01)
    assert np.allclose(np.bincount(y, minlength=4) / 20000, 0.25, atol=0.01)
    unmarked = x[..., :8][x[..., 8] == 0]
    assert np.allclose(unmarked.mean(0), 1 / 8, atol=0.005)


def test_bad_inputs_name_the_argument():
    with raises_naming(ValueError, "mode"):
        CellClassifier("elman", 3, 4, 2, rng=0)
    with raises_naming(ValueError, "num_classes"):
        CellClassifier("gru", 3, 4, 0, rng=0)
    with raises_naming(ValueError, "num_units"):
        CellClassifier("gru", 3, 0, 2, rng=0)
    with raises_naming(ValueError, "forget_bias"):
        CellClassifier("gru", 3, 4, 2, rng=0, forget_bias=1.0)
    with raises_naming(TypeError, "forget_bias"):
        CellClassifier("lstm", 3, 4, 2, rng=0, forget_bias=float("nan"))
    with raises_naming(TypeError, "rng"):
        CellClassifier("lstm", 3, 4, 2, rng=None)
    model = CellClassifier("lstm", 3, 4, 2, rng=0)
    with raises_naming(ValueError, "x"):
        model.forward(np.zeros((2, 5, 4)))
    with raises_naming(ValueError, "x"):
        model.forward(np.array([[0, 3]]))
    with raises_naming(ValueError, "x"):
        model.forward(np.zeros((2, 0, 3)))
    with raises_naming(ValueError, "x"):
        model.forward(np.full((1, 2, 3), np.nan))
    with raises_naming(TypeError, "x"):
        model.forward([[0, 1]])
    with raises_naming(ValueError, "y"):
        model.loss(np.zeros((2, 5, 3)), np.array([0, 2]))
    with raises_naming(ValueError, "y"):
        model.accuracy(np.zeros((2, 5, 3)), np.array([0]))
    with raises_naming(ValueError, "dlogits"):
        model.backward(np.zeros((3, 2)), model.forward(np.zeros((2, 5, 3)))[1])
    for name, kwargs in [("n", {"n": 0}), ("length", {"length": 0}), ("num_classes", {"num_classes": 9}),
                         ("num_symbols", {"num_symbols": 0})]:
        args = {"n": 2, "length": 3, "num_classes": 4, "num_symbols": 8, **kwargs}
        with raises_naming(ValueError, name):
            marked_symbol_task(args["n"], args["length"], 0, num_classes=args["num_classes"],
                               num_symbols=args["num_symbols"])
    with raises_naming(TypeError, "rng"):
        marked_symbol_task(2, 3, None)
