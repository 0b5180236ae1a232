"""The output layer, softmax and the sequence cross-entropy."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import (
    affine_backward,
    affine_forward,
    log_softmax,
    sequence_cross_entropy,
    softmax,
)

shapes = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5))
seeds = st.integers(0, 2**32 - 1)


@PROPERTY
@given(shape=shapes, K=st.integers(1, 5), seed=seeds, per_step=st.booleans())
def test_affine_passes_gradient_check(shape, K, seed, per_step):
    B, T, H = shape
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(B, H) if per_step else (B, T, H))
    V, b_y = rng.normal(size=(K, H)), rng.normal(size=K)
    dz = rng.normal(size=h.shape[:-1] + (K,))

    def f():
        return np.sum(affine_forward(h, V, b_y)[0] * dz)

    z, cache = affine_forward(h, V, b_y)
    assert z.shape == h.shape[:-1] + (K,)
    g = affine_backward(dz, cache)
    assert_gradients(f, {"h": h, "V": V, "b_y": b_y}, {"h": g["dh"], "V": g["dV"], "b_y": g["db_y"]})


@PROPERTY
@given(shape=shapes, seed=seeds, reduction=st.sampled_from(["sum", "mean"]),
       masked=st.booleans())
def test_cross_entropy_passes_gradient_check(shape, seed, reduction, masked):
    B, T, K = shape
    rng = np.random.default_rng(seed)
    logits = 2 * rng.normal(size=(B, T, K))
    targets = rng.integers(0, K, size=(B, T))
    mask = None
    if masked:
        mask = rng.random((B, T)) < 0.7
        mask[0, 0] = True  # 'mean' needs one unmasked step

    def f():
        return sequence_cross_entropy(logits, targets, mask=mask, reduction=reduction)[0]

    _, dlogits = sequence_cross_entropy(logits, targets, mask=mask, reduction=reduction)
    assert_gradients(f, {"logits": logits}, {"logits": dlogits})


def test_loss_sums_minus_log_probability_of_each_target():
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3))
    p = softmax(logits)
    expected = -sum(np.log(p[b, t, targets[b, t]]) for b in range(2) for t in range(3))
    loss, _ = sequence_cross_entropy(logits, targets)
    np.testing.assert_allclose(loss, expected, rtol=1e-13)
    mean, _ = sequence_cross_entropy(logits, targets, reduction="mean")
    np.testing.assert_allclose(mean, expected / 6, rtol=1e-13)


def test_uniform_scores_give_T_ln_K():
    loss, _ = sequence_cross_entropy(np.zeros((1, 8, 4)), np.zeros((1, 8), dtype=int))
    np.testing.assert_allclose(loss, 8 * np.log(4), rtol=1e-15)


def test_masked_steps_give_zero_loss_and_zero_gradient():
    rng = np.random.default_rng(1)
    logits, targets = rng.normal(size=(2, 5, 3)), rng.integers(0, 3, size=(2, 5))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=float)
    loss, d = sequence_cross_entropy(logits, targets, mask=mask)
    assert np.all(d[0, 3:] == 0)
    first, _ = sequence_cross_entropy(logits[:1, :3], targets[:1, :3])
    second, _ = sequence_cross_entropy(logits[1:], targets[1:])
    np.testing.assert_allclose(loss, first + second, rtol=1e-13)
    mean, d_mean = sequence_cross_entropy(logits, targets, mask=mask.astype(bool), reduction="mean")
    np.testing.assert_allclose(mean, loss / 8, rtol=1e-13)
    np.testing.assert_allclose(d_mean, d / 8, rtol=1e-13)


def test_huge_logits_stay_finite():
    logits = np.array([[[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]]])
    targets = np.array([[2, 0]])
    loss, d = sequence_cross_entropy(logits, targets)
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    np.testing.assert_allclose(loss, 2e4 + 2e4 + np.log(2), rtol=1e-12)
    assert np.all(np.isfinite(log_softmax(logits)))
    np.testing.assert_allclose(softmax(logits).sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(softmax(logits)[0, 1], [0.0, 0.5, 0.5])


def test_softmax_rows_sum_to_one_and_shift_invariant():
    z = np.random.default_rng(2).normal(size=(3, 4, 5))
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(softmax(z + 50.0), p, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)), p, rtol=1e-14)


def test_softmax_takes_one_vector_a_batch_or_sequences_alike():
    z = np.random.default_rng(4).normal(size=(2, 3, 5))
    expected = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-14)
    np.testing.assert_allclose(softmax(z[0]), expected[0], rtol=1e-14)  # (B, K)
    np.testing.assert_allclose(softmax(z[0, 0]), expected[0, 0], rtol=1e-14)  # (K,)
    np.testing.assert_allclose(log_softmax(z[0, 0]), np.log(expected[0, 0]), rtol=1e-14)


def test_nothing_aliases_and_inputs_stay_put():
    rng = np.random.default_rng(3)
    h, V, b_y = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
    dz = rng.normal(size=(2, 3, 5))
    copies = [a.copy() for a in (h, V, b_y, dz)]
    z, cache = affine_forward(h, V, b_y)
    g1 = affine_backward(dz, cache)
    z[...] = 0.0  # the scores are the caller's: the cache does not share them
    g1["dV"][...] = 0.0
    g2 = affine_backward(dz, cache)
    assert all(np.array_equal(g1[k], g2[k]) for k in ("dh", "db_y"))
    assert not np.array_equal(g1["dV"], g2["dV"])
    assert all(np.array_equal(a, c) for a, c in zip((h, V, b_y, dz), copies, strict=True))
    logits, targets = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))
    kept = logits.copy()
    _, d = sequence_cross_entropy(logits, targets)
    assert np.array_equal(logits, kept) and not np.shares_memory(d, logits)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_float32_in_float32_out(reduction):
    rng = np.random.default_rng(4)
    h = rng.normal(size=(2, 3, 4)).astype(np.float32)
    V, b_y = rng.normal(size=(5, 4)).astype(np.float32), np.zeros(5, np.float32)
    z, cache = affine_forward(h, V, b_y)
    assert z.dtype == np.float32
    assert {a.dtype for a in affine_backward(z, cache).values()} == {np.dtype(np.float32)}
    mask = np.array([[1, 0, 1], [1, 1, 1]], dtype=np.float64)  # a float64 mask must not upcast
    loss, d = sequence_cross_entropy(z, np.zeros((2, 3), dtype=np.int64), mask=mask,
                                     reduction=reduction)
    assert loss.dtype == np.float32 and d.dtype == np.float32
    assert softmax(z).dtype == np.float32 and log_softmax(z).dtype == np.float32


@PROPERTY
@given(shape=shapes, K=st.integers(1, 5), seed=seeds)
def test_affine_gives_the_same_results_for_any_memory_layout(shape, K, seed):
    """A time-major (B, T, H) view, as rnn_forward returns, and a C-ordered copy agree."""
    B, T, H = shape
    rng = np.random.default_rng(seed)
    h_time_major = rng.normal(size=(T, B, H)).transpose(1, 0, 2)
    h_batch_major = np.ascontiguousarray(h_time_major)
    V, b_y = rng.normal(size=(K, H)), rng.normal(size=K)
    dz = rng.normal(size=(B, T, K))
    results = []
    for h in (h_time_major, h_batch_major):
        for d in (dz, np.ascontiguousarray(dz.transpose(1, 0, 2)).transpose(1, 0, 2)):
            z, cache = affine_forward(h, V, b_y)
            results.append((z, affine_backward(d, cache)))
    z0, g0 = results[0]
    for z, g in results[1:]:
        np.testing.assert_allclose(z, z0, rtol=1e-13, atol=1e-13)
        for k in g0:
            assert g[k].shape == g0[k].shape
            np.testing.assert_allclose(g[k], g0[k], rtol=1e-13, atol=1e-13)
