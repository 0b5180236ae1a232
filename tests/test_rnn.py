"""The RNN layer: gradients, truncated BPTT in both forms, its public pieces, aliasing, dtypes."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients, make_rnn_problem, raises_naming
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnnlib.rnn import (
    bptt_deltas,
    grads_from_deltas,
    input_term,
    input_term_backward,
    tbptt_deltas,
    truncated_bptt_deltas,
)

sizes = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))
seeds = st.integers(0, 2**32 - 1)


def checked_params(p):
    """The arrays a gradient check perturbs: h0, W, U, b, and x when it is float."""
    names = ["h0", "W", "U", "b"] + ([] if p["x"].dtype.kind == "i" else ["x"])
    return {name: p[name] for name in names}


def sequence_grads(p, **kw):
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    g = rnn_backward(p["dhs"], cache, **kw)
    return {name[1:]: a for name, a in g.items()}  # dW -> W, dh0 -> h0, dx -> x


@PROPERTY
@given(sizes=sizes, seed=seeds, ids=st.booleans())
def test_full_bptt_passes_gradient_check(sizes, seed, ids):
    p = make_rnn_problem(*sizes, seed, ids=ids)

    def f():
        hs, _ = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
        return np.sum(hs * p["dhs"])

    grads = sequence_grads(p)
    assert set(grads) == {"W", "U", "b", "h0"} | (set() if ids else {"x"})
    assert_gradients(f, checked_params(p), grads)


@PROPERTY
@given(sizes=sizes, seed=seeds, ids=st.booleans())
def test_step_passes_gradient_check(sizes, seed, ids):
    B, _, D, H = sizes
    p = make_rnn_problem(B, 1, D, H, seed, ids=ids)
    x_t, dh = p["x"][:, 0], p["dhs"][:, 0]
    params = {"h_prev": p["h0"], "W": p["W"], "U": p["U"], "b": p["b"]}
    if not ids:
        params["x_t"] = x_t = x_t.copy()

    def f():
        h, _ = rnn_step_forward(x_t, params["h_prev"], p["W"], p["U"], p["b"])
        return np.sum(h * dh)

    _, cache = rnn_step_forward(x_t, p["h0"], p["W"], p["U"], p["b"])
    g = rnn_step_backward(dh, cache)
    assert_gradients(f, params, {"h_prev": g["dh_prev"], "W": g["dW"], "U": g["dU"],
                                 "b": g["db"], **({} if ids else {"x_t": g["dx"]})})


@pytest.mark.parametrize("ids", [True, False])
def test_sequence_forward_is_a_loop_of_steps(ids):
    p = make_rnn_problem(2, 5, 4, 3, seed=1, ids=ids)
    hs, _ = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    h = p["h0"]
    for t in range(5):
        h, _ = rnn_step_forward(p["x"][:, t], h, p["W"], p["U"], p["b"])
        np.testing.assert_allclose(hs[:, t], h, rtol=0, atol=1e-15)


def test_h0_none_means_zeros():
    p = make_rnn_problem(2, 3, 4, 3, seed=2, ids=True)
    hs_none, _ = rnn_forward(p["x"], None, p["W"], p["U"], p["b"])
    hs_zero, _ = rnn_forward(p["x"], np.zeros((2, 3)), p["W"], p["U"], p["b"])
    assert np.array_equal(hs_none, hs_zero)


def test_token_id_selects_a_column_of_W():
    p = make_rnn_problem(3, 4, 5, 2, seed=3, ids=True)
    one_hot = np.eye(5)[p["x"]]  # (B, T, D)
    hs_ids, c_ids = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    hs_hot, c_hot = rnn_forward(one_hot, p["h0"], p["W"], p["U"], p["b"])
    np.testing.assert_allclose(hs_ids, hs_hot, rtol=1e-14, atol=1e-15)
    g_ids, g_hot = rnn_backward(p["dhs"], c_ids), rnn_backward(p["dhs"], c_hot)
    np.testing.assert_allclose(g_ids["dW"], g_hot["dW"], rtol=1e-12, atol=1e-14)
    assert "dx" not in g_ids


# ------------------------------------------------------------- truncation --


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("T", [1, 2, 5])
def test_long_window_and_one_chunk_equal_full_bptt(T, ids):
    p = make_rnn_problem(2, T, 3, 4, seed=T, ids=ids)
    full = sequence_grads(p)
    for k in (T - 1, T, T + 3):
        windowed = sequence_grads(p, truncate=k)
        for name in full:
            np.testing.assert_allclose(windowed[name], full[name], rtol=1e-12, atol=1e-14)
    for c in (T, T + 1):
        chunked = sequence_grads(p, chunk=c)
        for name in full:
            assert np.array_equal(chunked[name], full[name])


@pytest.mark.parametrize("ids", [True, False])
def test_truncate_zero_keeps_only_the_immediate_step(ids):
    p = make_rnn_problem(2, 4, 3, 3, seed=5, ids=ids)
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    g = rnn_backward(p["dhs"], cache, truncate=0)
    # By hand: ds_t = dL/dh_t * (1 - h_t^2), no U^T recursion at all.
    ds = p["dhs"] * (1 - hs**2)
    h_prev = np.concatenate([p["h0"][:, None], hs[:, :-1]], axis=1)
    x = np.eye(3)[p["x"]] if ids else p["x"]
    np.testing.assert_allclose(g["dW"], np.einsum("bth,btd->hd", ds, x), rtol=1e-12)
    np.testing.assert_allclose(g["dU"], np.einsum("bth,btk->hk", ds, h_prev), rtol=1e-12)
    np.testing.assert_allclose(g["db"], ds.sum(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(g["dh0"], ds[:, 0] @ p["U"], rtol=1e-12)
    if not ids:
        np.testing.assert_allclose(g["dx"], ds @ p["W"], rtol=1e-12)


def test_the_two_truncations_differ_from_each_other_and_from_full():
    p = make_rnn_problem(2, 6, 3, 4, seed=6, ids=True)
    full = sequence_grads(p)
    window = sequence_grads(p, truncate=1)  # output t reaches s_t and s_{t-1}
    chunked = sequence_grads(p, chunk=2)  # chunks [0, 2), [2, 4), [4, 6)
    for a, b in [(full, window), (full, chunked), (window, chunked)]:
        for name in ("W", "U", "b"):
            assert np.abs(a[name] - b[name]).max() > 1e-3
    # Only outputs 0 and 1 reach h0, in both truncations; in full BPTT all six do.
    np.testing.assert_allclose(window["h0"], chunked["h0"], rtol=1e-12)
    assert np.abs(full["h0"] - window["h0"]).max() > 1e-3


def truncated_surrogate(p, hs, starts):
    """Sum over outputs t of dhs_t . h_t, where h_t is recomputed from step starts[t]
    with the state before it held constant (h0 itself, a variable, when starts[t] == 0):
    the loss whose exact gradient is what truncated BPTT computes."""
    x, W, U, b, h0, dhs = p["x"], p["W"], p["U"], p["b"], p["h0"], p["dhs"]
    total = 0.0
    for t, start in enumerate(starts):
        h = h0 if start == 0 else hs[:, start - 1]  # hs: a constant, from the unperturbed pass
        for k in range(start, t + 1):
            x_term = W[:, x[:, k]].T if x.dtype.kind == "i" else x[:, k] @ W.T
            h = np.tanh(x_term + h @ U.T + b)
        total += np.sum(h * dhs[:, t])
    return total


@PROPERTY
@given(sizes=sizes, seed=seeds, ids=st.booleans(), k=st.integers(0, 6), chunk=st.integers(1, 6))
def test_truncations_equal_gradients_of_stop_gradient_surrogates(sizes, seed, ids, k, chunk):
    p = make_rnn_problem(*sizes, seed, ids=ids)
    T = sizes[1]
    hs, _ = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    hs = hs.copy()
    window_starts = [max(0, t - k) for t in range(T)]
    chunk_starts = [t - t % chunk for t in range(T)]
    for starts, kw in [(window_starts, {"truncate": k}), (chunk_starts, {"chunk": chunk})]:
        assert_gradients(lambda s=starts: truncated_surrogate(p, hs, s), checked_params(p),
                         sequence_grads(p, **kw))


@PROPERTY
@given(sizes=sizes, seed=seeds, ids=st.booleans(), k1=st.integers(1, 4), extra=st.integers(0, 4))
def test_tbptt_is_the_gradient_of_its_stop_gradient_surrogate(sizes, seed, ids, k1, extra):
    # TBPTT(k1, k2): output t (0-based) is in block m = t // k1 + 1, whose sweep reaches
    # back to step m k1 - k2 (0-based), the brute-force definition.
    p = make_rnn_problem(*sizes, seed, ids=ids)
    T, k2 = sizes[1], k1 + extra
    hs, _ = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    starts = [max(0, (t // k1 + 1) * k1 - k2) for t in range(T)]
    assert_gradients(lambda: truncated_surrogate(p, hs.copy(), starts), checked_params(p),
                     sequence_grads(p, tbptt=(k1, k2)))


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("T", [1, 5, 7])
def test_tbptt_contains_the_window_and_the_chunks_bit_for_bit(T, ids):
    p = make_rnn_problem(2, T, 3, 4, seed=T, ids=ids)
    for k in range(0, T + 2):
        window, general = sequence_grads(p, truncate=k), sequence_grads(p, tbptt=(1, k + 1))
        for name in window:
            assert np.array_equal(window[name], general[name])
    for c in range(1, T + 2):
        chunked, general = sequence_grads(p, chunk=c), sequence_grads(p, tbptt=(c, c))
        for name in chunked:
            assert np.array_equal(chunked[name], general[name])


@pytest.mark.parametrize("kw", [{}, {"truncate": 2}, {"chunk": 2}, {"tbptt": (2, 3)}])
def test_return_deltas_adds_the_deltas_batch_major_and_changes_nothing_else(kw):
    p = make_rnn_problem(2, 5, 3, 4, seed=1, ids=False)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    plain = rnn_backward(p["dhs"], cache, **kw)
    with_ds = rnn_backward(p["dhs"], cache, return_deltas=True, **kw)
    assert set(with_ds) == set(plain) | {"ds"}
    for name in plain:
        assert np.array_equal(plain[name], with_ds[name])
    ds = with_ds["ds"]
    assert ds.shape == p["dhs"].shape
    np.testing.assert_allclose(ds[:, 0] @ p["U"], plain["dh0"], rtol=1e-12)  # dh0 = U^T ds_1


@pytest.mark.parametrize("k1", [1, 2, 3, 4, 7])
def test_tbptt_deltas_is_full_bptt_exactly_when_k2_at_least_k1_ceil_T_over_k1(k1):
    # The last block ends at k1 ceil(T/k1), which may pass T; its sweep reaches step 1
    # only if k2 >= k1 ceil(T/k1). One step less leaves s_1 out of the last output's
    # gradient, even where k2 >= T (T = 7, k1 = 2, 3 or 4: k2 = 7, 8 or 7).
    T = 7
    p = make_rnn_problem(2, T, 3, 4, seed=3, ids=True)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    dhs = p["dhs"].swapaxes(0, 1)
    full = bptt_deltas(dhs, cache["h"], p["U"])
    k2 = k1 * -(-T // k1)
    np.testing.assert_allclose(tbptt_deltas(dhs, cache["h"], p["U"], k1, k2), full, rtol=1e-12)
    if k2 - 1 >= k1:  # the counterexample just below the condition
        short = tbptt_deltas(dhs, cache["h"], p["U"], k1, k2 - 1)
        assert not np.allclose(short[0], full[0], rtol=1e-6, atol=0)  # s_1 misses a term
        np.testing.assert_allclose(short[1:], full[1:], rtol=1e-12)  # and nothing else


def test_truncate_and_chunk_together_is_an_error():
    p = make_rnn_problem(1, 3, 2, 2, seed=0, ids=True)
    with raises_naming(ValueError, "truncate"):
        sequence_grads(p, truncate=1, chunk=2)


# --------------------------------------------------------- aliasing, dtype --


@pytest.mark.parametrize("ids", [True, False])
def test_backward_twice_and_mutated_outputs_change_nothing(ids):
    p = make_rnn_problem(2, 4, 3, 3, seed=7, ids=ids)
    before = {k: a.copy() for k, a in p.items()}
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    g1 = rnn_backward(p["dhs"], cache, truncate=2)
    with pytest.raises(ValueError, match="read-only"):
        hs[...] = 123.0  # the cache shares hs, so the caller gets it read-only
    with pytest.raises(ValueError, match="read-only"):
        cache["hs"][0, 0, 0] = 0.0
    g2 = rnn_backward(p["dhs"], cache, truncate=2)
    g1["dW"][...] = 0.0  # nor may a returned gradient share memory with the cache
    g3 = rnn_backward(p["dhs"], cache, truncate=2)
    assert all(np.array_equal(g2[k], g3[k]) for k in g2)
    for k in p:
        assert np.array_equal(p[k], before[k]), f"{k} was mutated"
    # The cache holds x, W and U by reference (the documented contract: do not change
    # them in place before the backward pass); b and h0 are not needed after the forward pass.
    for name in ("b", "h0"):
        p[name][...] += 1
    g4 = rnn_backward(p["dhs"], cache, truncate=2)
    assert all(np.array_equal(g2[k], g4[k]) for k in g2)


@PROPERTY
@given(N=st.integers(1, 40), H=st.integers(1, 6), num_ids=st.integers(1, 30), seed=seeds)
def test_input_term_backward_sums_the_deltas_of_each_id(N, H, num_ids, seed):
    """dW for ids: both ways (one-hot product up to 4H ids, scatter-add above) against a loop."""
    rng = np.random.default_rng(seed)
    ds, ids = rng.normal(size=(N, H)), rng.integers(0, num_ids, size=N)
    expected = np.zeros((H, num_ids))
    for n, i in enumerate(ids):
        expected[:, i] += ds[n]
    got, dx = input_term_backward(ds, ids, np.zeros((H, num_ids)))
    assert got.shape == (H, num_ids) and dx is None
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ids", [True, False])
def test_input_term_is_W_times_x(ids):
    p = make_rnn_problem(2, 3, 4, 5, seed=4, ids=ids)
    x = np.eye(4)[p["x"]] if ids else p["x"]
    np.testing.assert_allclose(input_term(p["x"], p["W"]), np.einsum("hd,btd->bth", p["W"], x),
                               rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("kw", [{}, {"truncate": 2}, {"chunk": 2}])
def test_rnn_backward_is_the_deltas_then_the_gradients(kw, ids):
    """The public pieces a chapter shows compose to rnn_backward, bit for bit."""
    p = make_rnn_problem(3, 5, 4, 3, seed=12, ids=ids)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    dhs, h = p["dhs"].swapaxes(0, 1), cache["h"]
    if "truncate" in kw:
        ds = truncated_bptt_deltas(dhs, h, p["U"], kw["truncate"])
    else:
        ds = bptt_deltas(dhs, h, p["U"], kw.get("chunk"))
    g = grads_from_deltas(ds, p["x"], h, p["W"], p["U"])
    expected = rnn_backward(p["dhs"], cache, **kw)
    assert list(g) == list(expected) and all(np.array_equal(g[k], expected[k]) for k in g)
    np.testing.assert_array_equal(h[0], p["h0"])  # h[t] is h_t, h[0] the initial state


@pytest.mark.parametrize("kw", [{}, {"truncate": 1}, {"chunk": 2}])
def test_backward_gives_the_same_results_for_any_layout_of_dhs(kw):
    p = make_rnn_problem(3, 5, 4, 3, seed=11, ids=False)
    _, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    time_major = np.ascontiguousarray(p["dhs"].transpose(1, 0, 2)).transpose(1, 0, 2)
    g_batch, g_time = rnn_backward(p["dhs"], cache, **kw), rnn_backward(time_major, cache, **kw)
    for k in g_batch:
        np.testing.assert_allclose(g_time[k], g_batch[k], rtol=1e-13, atol=1e-13)


def test_step_backward_twice_and_mutated_output_change_nothing():
    p = make_rnn_problem(2, 1, 3, 3, seed=8, ids=False)
    h, cache = rnn_step_forward(p["x"][:, 0], p["h0"], p["W"], p["U"], p["b"])
    g1 = rnn_step_backward(p["dhs"][:, 0], cache)
    with pytest.raises(ValueError, match="read-only"):
        h[...] = 0.0  # the cache holds h_t, so the caller gets it read-only
    g1["dW"][...] = 0.0
    g2 = rnn_step_backward(p["dhs"][:, 0], cache)
    assert not np.array_equal(g1["dW"], g2["dW"])
    g3 = rnn_step_backward(p["dhs"][:, 0], cache)
    assert all(np.array_equal(g2[k], g3[k]) for k in g2)


@pytest.mark.parametrize("D", [3, 20])  # ids: 20 > 4H takes the scatter-add way to dW
@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("kw", [{}, {"truncate": 1}, {"chunk": 2}])
def test_float32_in_float32_out(ids, kw, D):
    p = make_rnn_problem(2, 4, D, 3, seed=9, ids=ids, dtype=np.float32)
    hs, cache = rnn_forward(p["x"], p["h0"], p["W"], p["U"], p["b"])
    assert hs.dtype == np.float32
    g = rnn_backward(p["dhs"], cache, **kw)
    assert {a.dtype for a in g.values()} == {np.dtype(np.float32)}
    h, c = rnn_step_forward(p["x"][:, 0], p["h0"], p["W"], p["U"], p["b"])
    assert h.dtype == np.float32
    assert {a.dtype for a in rnn_step_backward(p["dhs"][:, 0], c).values()} == {np.dtype(np.float32)}
    hs64, _ = rnn_forward(p["x"].astype(np.float64) if not ids else p["x"],
                          *(p[k].astype(np.float64) for k in ("h0", "W", "U", "b")))
    np.testing.assert_allclose(hs, hs64, rtol=1e-5, atol=1e-6)


def test_core_never_imports_tensorflow():
    allowed = {"tfcompat.py", "keras_interop.py"}
    package = Path(rnnlib.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"tensorflow", "keras", "tf_keras"}, (
                    f"{path.name} imports {name}"
                )
