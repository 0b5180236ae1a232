"""Linear recurrences: the loop, closed form, parallel scan, log space, the reverse scan;
minGRU and its language model; the LRU and its convolution kernel. Values against the loop,
gradients against finite differences (float64), bad input naming its argument."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients, raises_naming
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import linear_rnn as L
from rnnlib.rnn import bptt_deltas

sizes = st.tuples(st.integers(1, 3), st.integers(1, 40), st.integers(1, 4))  # B, T, H
small = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4))  # B, T, D, H
# the LRU needs T >= 2: with one step the phase of lambda changes nothing
lru_sizes = st.tuples(st.integers(1, 3), st.integers(2, 6), st.integers(1, 4), st.integers(1, 4))
seeds = st.integers(0, 2**32 - 1)


def linear_problem(B, T, H, seed, low=0.5, high=1.2):
    rng = np.random.default_rng(seed)
    return (rng.uniform(low, high, size=(B, T, H)), rng.normal(size=(B, T, H)),
            rng.normal(size=(B, H)), rng.normal(size=(B, T, H)))


@PROPERTY
@given(sizes=sizes, seed=seeds, with_h0=st.booleans())
def test_scan_and_closed_form_equal_the_loop(sizes, seed, with_h0):
    a, b, h0, _ = linear_problem(*sizes, seed)
    h0 = h0 if with_h0 else None
    loop = L.linear_recurrence(a, b, h0)
    np.testing.assert_allclose(L.linear_scan(a, b, h0), loop, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(L.linear_closed_form(a, b, h0), loop, rtol=1e-8, atol=1e-8)
    # the loop itself is the recurrence
    h_prev = np.zeros_like(b[:, 0]) if h0 is None else h0
    for t in range(b.shape[1]):
        np.testing.assert_allclose(loop[:, t], a[:, t] * h_prev + b[:, t], rtol=1e-14)
        h_prev = loop[:, t]


@PROPERTY
@given(sizes=sizes, seed=seeds, with_h0=st.booleans())
def test_log_space_equals_the_loop_for_positive_inputs(sizes, seed, with_h0):
    a, b, h0, _ = linear_problem(*sizes, seed)
    b, h0 = np.abs(b) + 0.1, (np.abs(h0) + 0.1 if with_h0 else None)
    log_h = L.log_linear_scan(np.log(a), np.log(b), None if h0 is None else np.log(h0))
    np.testing.assert_allclose(np.exp(log_h), L.linear_recurrence(a, b, h0), rtol=1e-10)


def test_log_space_survives_where_the_closed_form_underflows():
    T = 10_000
    a, b = np.full((1, T, 1), 0.9), np.full((1, T, 1), 0.1)
    assert not np.isfinite(L.linear_closed_form(a, b)[0, -1, 0])
    want = 1 - 0.9**T  # h_t = 0.1 (1 + 0.9 + ... + 0.9^(t-1))
    assert L.linear_scan(a, b)[0, -1, 0] == pytest.approx(want, rel=1e-12)
    assert np.exp(L.log_linear_scan(np.log(a), np.log(b))[0, -1, 0]) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 8, 9, 31, 32, 33, 1000])
def test_scan_equals_the_loop_at_and_around_powers_of_two(T):
    a, b, h0, _ = linear_problem(2, T, 3, T)
    np.testing.assert_allclose(L.linear_scan(a, b, h0), L.linear_recurrence(a, b, h0), rtol=1e-10, atol=1e-10)


def test_scan_of_complex_steps_and_its_prefix_products():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 11, 3)) + 1j * rng.normal(size=(2, 11, 3))
    b = rng.normal(size=(2, 11, 3)) + 1j * rng.normal(size=(2, 11, 3))
    A, S = L.scan(a, b)
    np.testing.assert_allclose(A, np.cumprod(a, axis=1), rtol=1e-12)
    h = np.zeros((2, 3), dtype=complex)
    for t in range(11):
        h = a[:, t] * h + b[:, t]
        np.testing.assert_allclose(S[:, t], h, rtol=1e-10, atol=1e-12)


def test_combine_is_associative_and_not_commutative():
    rng = np.random.default_rng(1)
    p, q, r = (tuple(rng.normal(size=(2, 3))) for _ in range(3))
    left = L.combine(*L.combine(*p, *q), *r)
    right = L.combine(*p, *L.combine(*q, *r))
    np.testing.assert_allclose(left, right, rtol=1e-12)
    assert not np.allclose(L.combine(*p, *q)[1], L.combine(*q, *p)[1])


@PROPERTY
@given(sizes=sizes, seed=seeds, with_h0=st.booleans())
def test_linear_scan_backward_passes_gradient_check(sizes, seed, with_h0):
    B, T, H = sizes
    a, b, h0, dhs = linear_problem(B, min(T, 8), H, seed)
    params = {"a": a, "b": b} | ({"h0": h0} if with_h0 else {})

    def f():
        return np.sum(L.linear_recurrence(a, b, params.get("h0")) * dhs)

    g = L.linear_scan_backward(dhs, a, L.linear_scan(a, b, params.get("h0")), params.get("h0"))
    assert_gradients(f, params, {"a": g["da"], "b": g["db"], "h0": g["dh0"]})


@PROPERTY
@given(sizes=sizes, seed=seeds)
def test_reverse_scan_is_chapter_3s_delta_recursion_with_identity_jacobians(sizes, seed):
    B, T, H = sizes
    rng = np.random.default_rng(seed)
    a_const, dhs = rng.uniform(0.5, 1.2, size=H), rng.normal(size=(B, T, H))
    g = L.reverse_scan(dhs, np.broadcast_to(a_const, (B, T, H)))
    h_zero = np.zeros((T + 1, B, H))  # tanh'(s) = 1 - h^2 = 1: D_j = I
    ds = bptt_deltas(dhs.swapaxes(0, 1), h_zero, np.diag(a_const))
    np.testing.assert_allclose(g, ds.swapaxes(0, 1), rtol=1e-10, atol=1e-12)


def min_gru_problem(B, T, D, H, seed, ids):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, D, size=(B, T)) if ids else rng.normal(size=(B, T, D))
    return {"x": x, "h0": rng.normal(size=(B, H)), "W": rng.normal(size=(H, D)), "b": rng.normal(size=H),
            "W_z": rng.normal(size=(H, D)), "b_z": rng.normal(size=H), "dhs": rng.normal(size=(B, T, H))}


@PROPERTY
@given(sizes=small, seed=seeds, ids=st.booleans())
def test_min_gru_matches_its_equations_and_passes_gradient_check(sizes, seed, ids):
    p = min_gru_problem(*sizes, seed, ids)
    args = ("x", "h0", "W", "b", "W_z", "b_z")
    hs, cache = L.min_gru_forward(*(p[k] for k in args))
    h = p["h0"]
    onehot = np.eye(p["W"].shape[1])[p["x"]] if ids else p["x"]
    for t in range(hs.shape[1]):
        z = 1 / (1 + np.exp(-(onehot[:, t] @ p["W_z"].T + p["b_z"])))
        h = (1 - z) * h + z * (onehot[:, t] @ p["W"].T + p["b"])
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-10, atol=1e-10)

    def f():
        return np.sum(L.min_gru_forward(*(p[k] for k in args))[0] * p["dhs"])

    g = {k[1:]: v for k, v in L.min_gru_backward(p["dhs"], cache).items()}
    checked = [k for k in args if k != "x" or not ids]
    assert set(g) == set(checked)
    assert_gradients(f, {k: p[k] for k in checked}, g)


def test_min_gru_without_h0_starts_from_zero():
    p = min_gru_problem(2, 5, 3, 4, 0, ids=True)
    zero = np.zeros((2, 4))
    hs, cache = L.min_gru_forward(p["x"], None, p["W"], p["b"], p["W_z"], p["b_z"])
    want, cache0 = L.min_gru_forward(p["x"], zero, p["W"], p["b"], p["W_z"], p["b_z"])
    np.testing.assert_array_equal(hs, want)
    g, g0 = L.min_gru_backward(p["dhs"], cache), L.min_gru_backward(p["dhs"], cache0)
    for k in g:
        np.testing.assert_allclose(g[k], g0[k], rtol=1e-14)


@PROPERTY
@given(sizes=small, seed=seeds)
def test_min_gru_language_model_gradients(sizes, seed):
    B, T, D, H = sizes
    rng = np.random.default_rng(seed)
    model = L.MinGRULanguageModel(D, H, rng=seed)
    x, y, h0 = rng.integers(0, D, size=(B, T)), rng.integers(0, D, size=(B, T)), rng.normal(size=(B, H))
    loss, grads, h_last = model.loss(x, y, h0=h0)
    assert set(grads) == set(L.MIN_GRU_LM_PARAM_NAMES) == set(model.params)
    logits, cache = model.forward(x, h0)
    np.testing.assert_array_equal(h_last, cache["min_gru"]["hs"][:, -1])
    assert_gradients(lambda: model.loss(x, y, h0=h0)[0], model.params, grads)


def test_min_gru_language_model_trains_with_chapter_6s_loop():
    from rnnlib import SGD
    from rnnlib.train import bits_per_char, train_language_model

    ids = np.tile(np.arange(5), 400)  # a text with one next character after each
    streams = ids.reshape(4, -1)
    model = L.MinGRULanguageModel(5, 8, rng=0)
    before = bits_per_char(model, streams)
    history = train_language_model(model, streams, seq_len=10, optimizer=SGD(0.1), steps=200)
    assert history["loss"].shape == (200,)
    assert bits_per_char(model, streams) < min(0.5, before / 4)


def test_min_gru_lm_loss_takes_float_inputs_with_targets_of_shape_B_T():
    """Float inputs x (B, T, D) have targets y (B, T), as for ids (y is checked against (B, T))."""
    model = L.MinGRULanguageModel(3, 4, rng=0)
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    loss, grads, h_last = model.loss(x, np.zeros((2, 5), dtype=np.int64))
    assert np.isfinite(loss) and h_last.shape == (2, 4) and set(grads) == set(model.params)


def lru_problem(B, T, D, N, seed):
    rng = np.random.default_rng(seed)
    p = L.init_lru_params(D, N, rng=seed, r_min=0.4, r_max=0.95)
    return p, rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))


@PROPERTY
@given(sizes=lru_sizes, seed=seeds)
def test_lru_matches_its_equations_and_passes_gradient_check(sizes, seed):
    p, u, dy = lru_problem(*sizes, seed)
    y, cache = L.lru_forward(u, p)
    lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
    gamma = np.sqrt(1 - np.abs(lam) ** 2)
    x = np.zeros((u.shape[0], lam.size), dtype=complex)
    for t in range(u.shape[1]):
        x = lam * x + gamma * (u[:, t] @ (p["B_re"] + 1j * p["B_im"]).T)
        want = (x @ (p["C_re"] + 1j * p["C_im"]).T).real + p["D"] * u[:, t]
        np.testing.assert_allclose(y[:, t], want, rtol=1e-10, atol=1e-12)

    def f():
        return np.sum(L.lru_forward(u, p)[0] * dy)

    g = L.lru_backward(dy, cache)
    assert set(g) == set(p) | {"du", "G_x"}
    assert_gradients(f, {**p, "du": u}, g)


def test_lru_state_gradient_decays_as_lambda_to_the_distance():
    p, u, _ = lru_problem(1, 50, 2, 3, 0)
    _, cache = L.lru_forward(u, p)
    dy = np.zeros_like(u)
    dy[:, -1] = 1.0
    G = L.lru_backward(dy, cache)["G_x"][0]  # (T, N)
    lam_abs = np.abs(L.lru_eigenvalues(p)[0])
    d = np.arange(50)[::-1, None]  # distance T - t
    np.testing.assert_allclose(np.abs(G), np.abs(G[-1]) * lam_abs**d, rtol=1e-10)


@pytest.mark.parametrize("r", [0.0, 0.5, 0.9])
def test_lru_init_draws_lambda_on_the_ring(r):
    p = L.init_lru_params(3, 2000, rng=0, r_min=r, r_max=0.99, max_phase=np.pi)
    lam, gamma = L.lru_eigenvalues(p)
    assert np.all((np.abs(lam) >= r - 1e-12) & (np.abs(lam) <= 0.99 + 1e-12))
    assert np.all((np.angle(lam) >= 0) & (np.angle(lam) < np.pi + 1e-12))
    np.testing.assert_allclose(np.abs(lam) ** 2 + gamma**2, 1, rtol=1e-12)
    # uniform on the ring: |lambda|^2 is uniform between r^2 and 0.99^2
    assert abs(np.mean(np.abs(lam) ** 2) - (r**2 + 0.99**2) / 2) < 0.02


def test_lru_normalisation_keeps_the_state_variance_of_white_noise():
    p = L.init_lru_params(1, 3, rng=0, r_min=0.99, r_max=0.999)
    p["B_re"][:], p["B_im"][:] = 1.0, 0.0
    u = np.random.default_rng(0).normal(size=(200, 3000, 1))
    _, cache = L.lru_forward(u, p)
    var = np.mean(np.abs(cache["xs"][:, -1]) ** 2, axis=0)  # gamma^2 / (1 - |lambda|^2) (1 - |lambda|^(2T))
    lam_abs = np.abs(L.lru_eigenvalues(p)[0])
    np.testing.assert_allclose(var, 1 - lam_abs ** (2 * 3000), rtol=0.25)


@PROPERTY
@given(sizes=small, seed=seeds)
def test_fft_convolution_with_the_kernel_equals_the_recurrence(sizes, seed):
    p, u, _ = lru_problem(*sizes, seed)
    y, _ = L.lru_forward(u, p)
    K = L.lru_kernel(p, u.shape[1])
    np.testing.assert_allclose(L.causal_conv_fft(u, K) + p["D"] * u, y, rtol=1e-9, atol=1e-12)
    direct = np.stack([sum(u[:, t - k] @ K[k].T for k in range(t + 1)) for t in range(u.shape[1])], axis=1)
    np.testing.assert_allclose(L.causal_conv_fft(u, K), direct, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------- bad input --

rng = np.random.default_rng(0)
a3, b3, h03 = rng.uniform(size=(2, 4, 3)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3))
mg = min_gru_problem(2, 4, 5, 3, 0, ids=True)
_, mg_cache = L.min_gru_forward(mg["x"], mg["h0"], mg["W"], mg["b"], mg["W_z"], mg["b_z"])
lp, lu, _ = lru_problem(2, 4, 3, 5, 0)
_, lru_cache = L.lru_forward(lu, lp)


def mg_call(**change):
    q = {**mg, **change}
    return lambda: L.min_gru_forward(q["x"], q["h0"], q["W"], q["b"], q["W_z"], q["b_z"])


BAD = [
    ("a wrong shape", lambda: L.linear_scan(a3[:, :2], b3), ValueError, "a"),
    ("b rank 2", lambda: L.linear_recurrence(a3, b3[0]), ValueError, "b"),
    ("b no steps", lambda: L.linear_scan(a3[:, :0], b3[:, :0]), ValueError, "b"),
    ("h0 wrong shape", lambda: L.linear_closed_form(a3, b3, h03[:, :2]), ValueError, "h0"),
    ("b NaN", lambda: L.linear_scan(a3, b3 * np.nan), ValueError, "b"),
    ("a list", lambda: L.linear_scan(a3.tolist(), b3), TypeError, "a"),
    ("a float32", lambda: L.linear_scan(a3.astype(np.float32), b3), TypeError, "a"),
    ("log_b ints", lambda: L.log_linear_scan(a3, b3.astype(int)), TypeError, "log_b"),
    ("log_h0 shape", lambda: L.log_linear_scan(a3, b3, h03[:1]), ValueError, "log_h0"),
    ("dhs wrong shape", lambda: L.linear_scan_backward(b3[:, :2], a3, b3), ValueError, "dhs"),
    ("hs vs a", lambda: L.linear_scan_backward(b3, a3[:, :2], b3), ValueError, "a"),
    ("x ids too large", mg_call(x=mg["x"] + 5), ValueError, "x"),
    ("x rank 1", mg_call(x=mg["x"][0]), ValueError, "x"),
    ("x floats rank 4", mg_call(x=np.zeros((2, 4, 5, 1))), TypeError, "x"),
    ("W_z shape", mg_call(W_z=mg["W_z"][:, :2]), ValueError, "W_z"),
    ("b_z shape", mg_call(b_z=mg["b_z"][:2]), ValueError, "b_z"),
    ("b shape", mg_call(b=mg["b"][:2]), ValueError, "b"),
    ("h0 dtype", mg_call(h0=mg["h0"].astype(np.float32)), TypeError, "h0"),
    ("mingru dhs", lambda: L.min_gru_backward(mg["dhs"][:, :2], mg_cache), ValueError, "dhs"),
    ("mingru cache", lambda: L.min_gru_backward(mg["dhs"], {}), TypeError, "cache"),
    ("lm hidden_size", lambda: L.MinGRULanguageModel(3, 0, rng=0), ValueError, "hidden_size"),
    ("lm rng", lambda: L.MinGRULanguageModel(3, 2, rng="x"), TypeError, "rng"),
    ("lm y too large", lambda: L.MinGRULanguageModel(3, 2, rng=0).loss(mg["x"] % 3, mg["x"] + 3),
     ValueError, "y"),
    ("lru r_max", lambda: L.init_lru_params(2, 3, rng=0, r_max=1.5), ValueError, "r_max"),
    ("lru r_min 1", lambda: L.init_lru_params(2, 3, rng=0, r_min=1.0), ValueError, "r_max"),
    ("lru r_min", lambda: L.init_lru_params(2, 3, rng=0, r_min=0.9, r_max=0.5), ValueError, "r_max"),
    ("lru state_size", lambda: L.init_lru_params(2, 0, rng=0), ValueError, "state_size"),
    ("lru max_phase", lambda: L.init_lru_params(2, 3, rng=0, max_phase=-1.0), ValueError, "max_phase"),
    ("lru u wrong D", lambda: L.lru_forward(lu[..., :2], lp), ValueError, "u"),
    ("lru params keys", lambda: L.lru_forward(lu, {"D": lp["D"]}), TypeError, "params"),
    ("lru C_re shape", lambda: L.lru_forward(lu, {**lp, "C_re": lp["C_re"][:1]}), ValueError, "params['C_re']"),
    ("lru dy shape", lambda: L.lru_backward(lu[:, :2], lru_cache), ValueError, "dy"),
    ("lru cache", lambda: L.lru_backward(lu, None), TypeError, "cache"),
    ("kernel T", lambda: L.lru_kernel(lp, 0), ValueError, "T"),
    ("conv kernel length", lambda: L.causal_conv_fft(lu, np.zeros((3, 3, 3))), ValueError, "kernel"),
    ("conv u rank", lambda: L.causal_conv_fft(lu[0], np.zeros((4, 3, 3))), ValueError, "u"),
]


@pytest.mark.parametrize("call, error, name", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_names_the_argument(call, error, name):
    with raises_naming(error, name):
        call()
