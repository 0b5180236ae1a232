"""rnn.state_gradients: dL/dh_t at every step, checked against finite differences and BPTT."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, make_rnn_problem
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import numerical_gradient, relative_error, rnn_backward, rnn_forward, state_gradients

sizes = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4))


def loss_from_state(p, t, h):
    """L = sum(dhs * hs) as a function of the state after step t (t = 0: h0), the
    states up to it held fixed: the direct term of that state plus all later ones."""
    T = p["x"].shape[1]
    later = 0.0
    if t < T:
        hs, _ = rnn_forward(p["x"][:, t:], h, p["W"], p["U"], p["b"])
        later = np.sum(hs * p["dhs"][:, t:])
    direct = np.sum(h * p["dhs"][:, t - 1]) if t >= 1 else 0.0
    return float(direct + later)


@PROPERTY
@given(sizes=sizes, seed=st.integers(0, 2**32 - 1), ids=st.booleans())
def test_state_gradients_match_finite_differences(sizes, seed, ids):
    p = make_rnn_problem(*sizes, seed, ids=ids)
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    G = state_gradients(p["dhs"], cache)
    T = hs.shape[1]
    assert G.shape == (hs.shape[0], T + 1, hs.shape[2])
    for t in range(T + 1):
        h = (p["h0"] if t == 0 else hs[:, t - 1]).copy()
        numeric = numerical_gradient(lambda t=t, h=h: loss_from_state(p, t, h), h, 1e-3, order=4)
        assert relative_error(G[:, t], numeric).max() < 1e-7, t


@pytest.mark.parametrize("ids", [True, False])
def test_ends_agree_with_rnn_backward(ids):
    p = make_rnn_problem(3, 6, 4, 5, seed=11, ids=ids)
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    G = state_gradients(p["dhs"], cache)
    g = rnn_backward(p["dhs"], cache)
    assert np.array_equal(G[:, -1], p["dhs"][:, -1])  # nothing comes after the last step
    np.testing.assert_allclose(G[:, 0], g["dh0"], rtol=1e-12, atol=1e-14)
    # Through tanh, the states' gradients are the deltas rnn_backward sums into db.
    np.testing.assert_allclose((G[:, 1:] * (1 - hs**2)).sum(axis=(0, 1)), g["db"], rtol=1e-12)


def test_last_output_only_reaches_back_like_a_product_of_jacobians():
    p = make_rnn_problem(1, 5, 3, 4, seed=12, ids=True)
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    dhs = np.zeros_like(hs)
    dhs[:, -1] = p["dhs"][:, -1]
    G = state_gradients(dhs, cache)
    # dE_T/dh_t = (dh_T/dh_t)^T dE_T/dh_T, with dh_k/dh_{k-1} = diag(1 - h_k^2) U.
    J = np.eye(4)
    for t in range(5, -1, -1):
        np.testing.assert_allclose(G[0, t], J.T @ dhs[0, -1], rtol=1e-12, atol=1e-15)
        if t >= 1:
            J = J @ (np.diag(1 - hs[0, t - 1] ** 2) @ p["U"])


def test_float32_in_float32_out():
    p = make_rnn_problem(2, 4, 3, 3, seed=13, ids=True, dtype=np.float32)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    assert state_gradients(p["dhs"], cache).dtype == np.float32


def test_bad_input_names_the_argument():
    p = make_rnn_problem(2, 4, 3, 3, seed=14, ids=True)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    with pytest.raises(ValueError, match=r"^dhs: expected shape \(2, 4, 3\)"):
        state_gradients(p["dhs"][:, :-1], cache)
    with pytest.raises(TypeError, match="^dhs: expected dtype float64"):
        state_gradients(p["dhs"].astype(np.float32), cache)
    with pytest.raises(TypeError, match="^cache: expected the cache dict returned by rnn_forward"):
        state_gradients(p["dhs"], {"hs": cache["hs"]})
