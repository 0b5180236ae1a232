"""Tests of rnnlib.cudnn: the numpy cuDNN modes and the layout conversions; numpy only."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib.cudnn import (
    CELLS,
    DIRECTIONS,
    INPUT_MODES,
    MODES,
    canonical_to_params,
    cudnn_rnn_backward,
    cudnn_rnn_forward,
    init_cudnn_params,
    keras_to_params,
    named_params,
    param_names,
    params_to_canonical,
    params_to_keras,
    pseudo_layer_backward,
    pseudo_layer_forward,
)
from rnnlib.gradcheck import gradient_check

# Five-point central differences (rnnlib.gradcheck, order=4) with step EPS in float64.
# The loss sums some 60 products of order 1, so rounding leaves ~1e-11 of absolute
# noise in each numerical derivative and the smallest gradient entries (~1e-4) show
# per-entry relative errors up to ~1e-7 (the worst over 64 seeded cases: 9.9e-8).
# A wrong term in a backward pass gives 1e-2 or more. EPS stays small enough that no
# relu pre-activation of these seeded cases is crossed by the stencil (+-2 EPS).
EPS = 1e-4
GRAD_TOL = 1e-6

B, T, H = 2, 3, 3


def _setup(mode, direction, num_layers, input_mode, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = H if input_mode == "skip" else 2
    dirs = 2 if direction == "bidirectional" else 1
    params = init_cudnn_params(mode, D, H, num_layers, direction, input_mode, rng=rng, dtype=dtype)
    x = rng.normal(size=(B, T, D)).astype(dtype)
    h0 = rng.normal(size=(num_layers * dirs, B, H)).astype(dtype)
    c0 = rng.normal(size=h0.shape).astype(dtype) if mode == "lstm" else None
    return params, x, h0, c0, rng


CASES = list(itertools.product(MODES, DIRECTIONS, (1, 2), INPUT_MODES))


@pytest.mark.parametrize(("mode", "direction", "num_layers", "input_mode"), CASES)
def test_gradients_match_central_differences(mode, direction, num_layers, input_mode):
    params, x, h0, c0, rng = _setup(mode, direction, num_layers, input_mode)
    kw = {"direction": direction, "input_mode": input_mode}
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, mode, **kw)
    Ry, Rh = rng.normal(size=y.shape), rng.normal(size=h_n.shape)
    Rc = rng.normal(size=h_n.shape) if mode == "lstm" else None

    def loss():
        y, h_n, c_n, _ = cudnn_rnn_forward(x, h0, c0, params, mode, **kw)
        return np.sum(y * Ry) + np.sum(h_n * Rh) + (np.sum(c_n * Rc) if mode == "lstm" else 0.0)

    dx, dh0, dc0, grads = cudnn_rnn_backward(Ry, Rh, Rc, cache)
    inputs = {"x": x, "h0": h0} | ({"c0": c0} if mode == "lstm" else {})
    analytic = {"x": dx, "h0": dh0} | ({"c0": dc0} if mode == "lstm" else {})
    report = gradient_check(
        loss, inputs | named_params(params, direction), analytic | named_params(grads, direction), eps=EPS, order=4
    )
    assert report.ok(GRAD_TOL), str(report)


def test_gradients_with_dropout_between_layers():
    params, x, h0, c0, rng = _setup("lstm", "bidirectional", 2, "linear")
    kw = {"direction": "bidirectional", "dropout": 0.4, "training": True, "rng": 7}  # same mask every call
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, "lstm", **kw)
    assert (cache["layers"][1]["mask"] == 0).any()
    Ry = rng.normal(size=y.shape)

    def loss():
        return np.sum(cudnn_rnn_forward(x, h0, c0, params, "lstm", **kw)[0] * Ry)

    dx, dh0, dc0, grads = cudnn_rnn_backward(Ry, None, None, cache)
    report = gradient_check(loss, {"x": x, **named_params(params, "bidirectional")},
                            {"x": dx, **named_params(grads, "bidirectional")}, eps=EPS, order=4)
    assert report.ok(GRAD_TOL), str(report)


# ---- the equations, checked against plain loops -------------------------------------------------


def test_rnn_tanh_is_tanh_of_both_biases():
    params, x, h0, _, _ = _setup("rnn_tanh", "unidirectional", 1, "linear")
    p = params[0]
    h = h0[0]
    for t in range(T):
        h = np.tanh(x[:, t] @ p["W"].T + h @ p["R"].T + p["bW"] + p["bR"])
    y, h_n, c_n, _ = cudnn_rnn_forward(x, h0, None, params, "rnn_tanh")
    np.testing.assert_allclose(y[:, -1], h, rtol=1e-12)
    np.testing.assert_allclose(h_n[0], h, rtol=1e-12)
    assert c_n is None


def test_gru_resets_after_the_recurrent_product():
    params, x, h0, _, _ = _setup("gru", "unidirectional", 1, "linear")
    p = params[0]

    def sig(a):
        return 1 / (1 + np.exp(-a))

    h = h0[0]
    for t in range(T):
        r = sig(x[:, t] @ p["W_r"].T + p["bW_r"] + h @ p["R_r"].T + p["bR_r"])
        z = sig(x[:, t] @ p["W_z"].T + p["bW_z"] + h @ p["R_z"].T + p["bR_z"])
        n = np.tanh(x[:, t] @ p["W_n"].T + p["bW_n"] + r * (h @ p["R_n"].T + p["bR_n"]))
        h = (1 - z) * n + z * h
    np.testing.assert_allclose(cudnn_rnn_forward(x, h0, None, params, "gru")[1][0], h, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_backward_direction_reads_the_sequence_reversed(mode):
    params, x, h0, c0, _ = _setup(mode, "bidirectional", 1, "linear")
    y, h_n, c_n, _ = cudnn_rnn_forward(x, h0, c0, params, mode, direction="bidirectional")
    c_b = None if c0 is None else c0[1:]
    y_b, h_b, c_nb, _ = cudnn_rnn_forward(x[:, ::-1].copy(), h0[1:], c_b, params[1:], mode)
    np.testing.assert_allclose(y[..., H:], y_b[:, ::-1], rtol=1e-12)  # [forward, backward] on the last axis
    np.testing.assert_allclose(h_n[1], h_b[0], rtol=1e-12)
    y_f = cudnn_rnn_forward(x, h0[:1], None if c0 is None else c0[:1], params[:1], mode)[0]
    np.testing.assert_allclose(y[..., :H], y_f, rtol=1e-12)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_two_layers_are_two_one_layer_runs(direction):
    params, x, h0, c0, _ = _setup("lstm", direction, 2, "linear")
    dirs = 2 if direction == "bidirectional" else 1
    y, h_n, c_n, _ = cudnn_rnn_forward(x, h0, c0, params, "lstm", direction=direction)
    y1, h1, c1, _ = cudnn_rnn_forward(x, h0[:dirs], c0[:dirs], params[:dirs], "lstm", direction=direction)
    y2, h2, c2, _ = cudnn_rnn_forward(y1, h0[dirs:], c0[dirs:], params[dirs:], "lstm", direction=direction)
    np.testing.assert_allclose(y, y2, rtol=1e-12)
    np.testing.assert_allclose(h_n, np.concatenate([h1, h2]), rtol=1e-12)
    np.testing.assert_allclose(c_n, np.concatenate([c1, c2]), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_skip_input_is_linear_input_with_identity_matrices(mode):
    params, x, h0, c0, _ = _setup(mode, "bidirectional", 2, "skip")
    y, h_n, _, _ = cudnn_rnn_forward(x, h0, c0, params, mode, direction="bidirectional", input_mode="skip")
    weights, biases = params_to_canonical(params, mode, "bidirectional", "skip")
    linear = canonical_to_params(weights, biases, mode, H, H, 2, "bidirectional", "linear")
    assert np.array_equal(linear[1][param_names(mode)[0][0]], np.eye(H))
    y_lin, h_lin, _, _ = cudnn_rnn_forward(x, h0, c0, linear, mode, direction="bidirectional")
    np.testing.assert_allclose(y, y_lin, rtol=1e-12)
    np.testing.assert_allclose(h_n, h_lin, rtol=1e-12)


def test_zero_initial_states_by_default_and_float32():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 2, "linear", dtype=np.float32)
    y, h_n, c_n, cache = cudnn_rnn_forward(x, None, None, params, "lstm")
    zeros = np.zeros_like(h0)
    np.testing.assert_array_equal(y, cudnn_rnn_forward(x, zeros, zeros, params, "lstm")[0])
    assert y.dtype == h_n.dtype == c_n.dtype == np.float32
    dx, dh0, dc0, grads = cudnn_rnn_backward(np.ones_like(y), None, None, cache)
    assert dx.dtype == dh0.dtype == grads[0]["W_i"].dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
def test_backward_with_none_is_backward_with_zeros_bit_for_bit(mode):
    params, x, h0, c0, rng = _setup(mode, "bidirectional", 2, "linear", dtype=np.float32)
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, mode, direction="bidirectional")
    dy = rng.normal(size=y.shape).astype(np.float32)
    zeros = np.zeros_like(h_n)
    dx, dh0, dc0, grads = cudnn_rnn_backward(dy, None, None, cache)
    dx_z, dh0_z, dc0_z, grads_z = cudnn_rnn_backward(dy, zeros, zeros if mode == "lstm" else None, cache)
    assert dx.dtype == dh0.dtype == np.float32
    np.testing.assert_array_equal(dx, dx_z)
    np.testing.assert_array_equal(dh0, dh0_z)
    if mode == "lstm":
        assert dc0.dtype == np.float32
        np.testing.assert_array_equal(dc0, dc0_z)
    else:
        assert dc0 is None and dc0_z is None  # only an LSTM has a cell state
    for g, g_z in zip(grads, grads_z, strict=True):
        assert all(g[k].dtype == np.float32 and np.array_equal(g[k], g_z[k]) for k in g)


def test_relu_has_zero_derivative_at_zero_as_in_tensorflow_and_pytorch():
    """At a pre-activation of exactly 0 the relu cell passes no gradient (TF's ReluGrad and
    PyTorch's threshold_backward use a > 0): with zero inputs, states and parameters every
    pre-activation is 0, so every gradient is 0."""
    params = [{k: np.zeros_like(a) for k, a in p.items()} for p in init_cudnn_params("rnn_relu", 2, H, rng=0)]
    x = np.zeros((B, T, 2))
    y, _, _, cache = cudnn_rnn_forward(x, None, None, params, "rnn_relu")
    dx, dh0, _, grads = cudnn_rnn_backward(np.ones_like(y), np.ones((1, B, H)), None, cache)
    assert not dx.any() and not dh0.any() and not any(g.any() for g in grads[0].values())


@pytest.mark.parametrize("mode", MODES)
def test_a_one_layer_network_is_one_pseudo_layer_run_with_its_cells_step_pair(mode):
    """The public pieces compose as the chapter says: CELLS picks a step pair per mode, and
    pseudo_layer_forward/backward over one cell is the whole one-layer network."""
    assert set(CELLS) == set(MODES) and all(callable(f) and callable(b) for f, b in CELLS.values())
    params, x, h0, c0, rng = _setup(mode, "unidirectional", 1, "linear")
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, mode)
    hs, h, c, layer_cache = pseudo_layer_forward(mode, x, params[0], h0[0], None if c0 is None else c0[0])
    np.testing.assert_array_equal(hs, y)
    np.testing.assert_array_equal(h, h_n[0])
    dy, dh_n = rng.normal(size=y.shape), rng.normal(size=h_n.shape)
    dc_n = rng.normal(size=h_n.shape) if mode == "lstm" else None
    dx, dh0, dc0, grads = cudnn_rnn_backward(dy, dh_n, dc_n, cache)
    got = pseudo_layer_backward(dy, dh_n[0], None if dc_n is None else dc_n[0], params[0], layer_cache)
    np.testing.assert_array_equal(got[0], dx)
    np.testing.assert_array_equal(got[1], dh0[0])
    if mode == "lstm":
        np.testing.assert_array_equal(c, c_n[0])
        np.testing.assert_array_equal(got[2], dc0[0])
    else:
        assert c is None and got[2] is None
    assert all(np.array_equal(got[3][k], grads[0][k]) for k in params[0])


def test_parameters_are_not_scanned_for_nan_but_inputs_and_gradients_are():
    """Validation at the boundary: data from the user is checked for NaN, parameters are not
    (a training loop checks its loss once per step instead)."""
    params, x, h0, c0, _ = _setup("gru", "unidirectional", 1, "linear")
    bad = [dict(params[0], R_z=np.full_like(params[0]["R_z"], np.nan))]
    y, h_n, _, cache = cudnn_rnn_forward(x, h0, None, bad, "gru")
    assert np.isnan(y).all()
    with raises_naming(ValueError, "x"):
        cudnn_rnn_forward(np.where(x > 0, np.nan, x), h0, None, params, "gru")
    with raises_naming(ValueError, "h0"):
        cudnn_rnn_forward(x, np.full_like(h0, np.inf), None, params, "gru")
    y, h_n, _, cache = cudnn_rnn_forward(x, h0, None, params, "gru")
    with raises_naming(ValueError, "dy"):
        cudnn_rnn_backward(np.full_like(y, np.nan), None, None, cache)
    with raises_naming(ValueError, "dh_n"):
        cudnn_rnn_backward(y, np.full_like(h_n, np.nan), None, cache)


def test_the_tensorflow_module_imports_tensorflow_only_when_called():
    code = "import sys, rnnlib.cudnn.tf_ops; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


# ---- dropout ----------------------------------------------------------------------------------


def _dropout_run(seed, p=0.5, training=True, num_layers=2, shape=(B, T)):
    params, x, h0, c0, _ = _setup("gru", "bidirectional", num_layers, "linear")
    x = np.random.default_rng(3).normal(size=shape + (x.shape[-1],))
    return cudnn_rnn_forward(x, None, None, params, "gru", direction="bidirectional",
                             dropout=p, training=training, rng=seed)


def test_dropout_same_seed_same_output_other_seed_other_output():
    y1, y2, y3 = (_dropout_run(seed)[0] for seed in (5, 5, 6))
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(y1, y3)


def test_dropout_off_when_p_is_zero_or_in_inference():
    reference = _dropout_run(None, p=0.0, training=False)[0]
    np.testing.assert_array_equal(_dropout_run(None, p=0.0, training=True)[0], reference)
    np.testing.assert_array_equal(_dropout_run(None, p=0.5, training=False)[0], reference)
    assert _dropout_run(5, p=0.0)[3]["layers"][1]["mask"] is None


def test_dropout_never_after_the_last_layer():
    one_layer = _dropout_run(None, p=0.0, training=False, num_layers=1)[0]
    np.testing.assert_array_equal(_dropout_run(5, p=0.9, num_layers=1)[0], one_layer)


def test_dropout_mask_keeps_one_minus_p_scaled_by_its_inverse():
    p = 0.3
    mask = _dropout_run(11, p=p, shape=(200, 50))[3]["layers"][1]["mask"]
    assert mask.shape == (200, 50, 2 * H)
    assert set(np.unique(mask)) == {0.0, 1 / (1 - p)}
    assert abs((mask == 0).mean() - p) < 0.01  # 60,000 Bernoulli draws: sd 0.002
    assert abs(mask.mean() - 1.0) < 0.02  # expectation preserved


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_dropout_leaves_the_first_layer_alone(direction):
    """cuDNN drops between layers only: the first layer reads x itself, so its final states
    are those of a run without dropout, whatever p and the mask."""
    params, x, h0, c0, _ = _setup("lstm", direction, 2, "linear")
    dirs = 2 if direction == "bidirectional" else 1
    _, h_ref, c_ref, _ = cudnn_rnn_forward(x, h0, c0, params, "lstm", direction=direction)
    _, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, "lstm", direction=direction,
                                           dropout=0.9, training=True, rng=3)
    assert cache["layers"][1]["mask"] is not None and (cache["layers"][1]["mask"] == 0).any()
    np.testing.assert_array_equal(h_n[:dirs], h_ref[:dirs])
    np.testing.assert_array_equal(c_n[:dirs], c_ref[:dirs])
    assert not np.allclose(h_n[dirs:], h_ref[dirs:])  # the second layer does see the dropout


@pytest.mark.parametrize(("mode", "input_mode"), [("lstm", "linear"), ("gru", "skip"), ("rnn_relu", "linear")])
def test_init_draws_every_entry_uniformly_within_one_over_sqrt_num_units(mode, input_mode):
    D, num_units = (40, 40)
    params = init_cudnn_params(mode, D, num_units, 2, "bidirectional", input_mode, rng=1)
    bound = 1 / np.sqrt(num_units)
    entries = np.concatenate([a.ravel() for p in params for a in p.values()])
    assert np.abs(entries).max() <= bound and np.abs(entries).max() > 0.99 * bound
    assert abs(entries.mean()) < 5 * bound / np.sqrt(3 * entries.size)  # centred on zero
    np.testing.assert_allclose(entries.std(), bound / np.sqrt(3), rtol=0.02)  # spread as U(-b, b)
    assert len({a.tobytes() for p in params for a in p.values()}) == sum(len(p) for p in params)  # all drawn


def test_named_params_names_every_layer_and_direction():
    params = init_cudnn_params("lstm", 2, H, 2, "bidirectional", rng=0)
    named = named_params(params, "bidirectional")
    assert len(named) == sum(len(p) for p in params)
    for k, (layer, side) in enumerate([(0, "fwd"), (0, "bwd"), (1, "fwd"), (1, "bwd")]):
        for name, a in params[k].items():
            assert named[f"l{layer}_{side}.{name}"] is a
    uni = init_cudnn_params("gru", 2, H, 2, rng=0)
    assert list(named_params(uni)) == [f"l{layer}_fwd.{n}" for layer in (0, 1) for n in uni[layer]]


# ---- conversions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "direction", "input_mode"), list(itertools.product(MODES, DIRECTIONS, INPUT_MODES)))
def test_canonical_round_trip(mode, direction, input_mode):
    params, *_ = _setup(mode, direction, 2, input_mode)
    weights, biases = params_to_canonical(params, mode, direction, input_mode)
    D = H if input_mode == "skip" else 2
    back = canonical_to_params(weights, biases, mode, D, H, 2, direction, input_mode)
    assert [list(p) for p in back] == [list(p) for p in params]
    for p, q in zip(params, back, strict=True):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])


def test_canonical_order_and_shapes_bidirectional_lstm():
    params, *_ = _setup("lstm", "bidirectional", 2, "linear")
    weights, biases = params_to_canonical(params, "lstm", "bidirectional")
    assert len(weights) == len(biases) == 2 * 2 * 8  # layers x directions x linLayerIDs
    assert [w.shape for w in weights[:8]] == [(H, 2)] * 4 + [(H, H)] * 4  # layer 0 forward
    assert [w.shape for w in weights[16:24]] == [(H, 2 * H)] * 4 + [(H, H)] * 4  # layer 1 forward
    assert all(b.shape == (H,) for b in biases)
    np.testing.assert_array_equal(weights[8 + 2], params[1]["W_g"])  # layer 0 backward, linLayerID 2
    np.testing.assert_array_equal(biases[24 + 7], params[3]["bR_o"])  # layer 1 backward, linLayerID 7


@pytest.mark.parametrize("mode", MODES)
def test_keras_layout_round_trip(mode):
    p = init_cudnn_params(mode, 2, H, rng=0)[0]
    kernel, recurrent_kernel, bias = params_to_keras(p, mode)
    G = len(param_names(mode)[1]) // 2
    assert kernel.shape == (2, G * H) and recurrent_kernel.shape == (H, G * H)
    assert bias.shape == ((2, G * H) if mode == "gru" else (G * H,))
    q = keras_to_params([kernel, recurrent_kernel, bias], mode)
    for k in p:
        if k.startswith("b") and mode != "gru":
            continue
        np.testing.assert_array_equal(p[k], q[k])
    if mode == "gru":
        np.testing.assert_array_equal(kernel[:, :H], p["W_z"].T)  # Keras' first block is z, not r
    else:  # one bias in Keras: bW + bR, read back as bR with bW = 0
        for g in ("_i", "_f", "_g", "_o") if mode == "lstm" else ("",):
            np.testing.assert_allclose(q["bR" + g], p["bW" + g] + p["bR" + g])
            assert not q["bW" + g].any()


# ---- bad input ----------------------------------------------------------------------------------


def test_bad_names_raise_value_errors_naming_the_argument():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 1, "linear")
    with raises_naming(ValueError, "mode"):
        cudnn_rnn_forward(x, h0, c0, params, "LSTM")
    with raises_naming(ValueError, "direction"):
        cudnn_rnn_forward(x, h0, c0, params, "lstm", direction="backward")
    with raises_naming(ValueError, "input_mode"):
        cudnn_rnn_forward(x, h0, c0, params, "lstm", input_mode="skip_input")
    with raises_naming(ValueError, "mode"):
        init_cudnn_params("vanilla", 2, H, rng=0)


def test_skip_input_needs_input_size_equal_to_num_units():
    with raises_naming(ValueError, "input_size"):
        init_cudnn_params("gru", 2, H, input_mode="skip", rng=0)
    params = init_cudnn_params("gru", H, H, input_mode="skip", rng=0)
    with raises_naming(ValueError, "x"):
        cudnn_rnn_forward(np.zeros((B, T, 2)), None, None, params, "gru", input_mode="skip")


def test_bad_shapes_and_types_name_the_argument():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 1, "linear")
    with raises_naming(ValueError, "x"):
        cudnn_rnn_forward(x[0], h0, c0, params, "lstm")
    with raises_naming(TypeError, "x"):
        cudnn_rnn_forward(x.tolist(), h0, c0, params, "lstm")
    with raises_naming(ValueError, "h0"):
        cudnn_rnn_forward(x, h0[0], c0, params, "lstm")
    with raises_naming(ValueError, "c0"):
        cudnn_rnn_forward(x, h0, c0[:, :1], params, "lstm")
    with raises_naming(ValueError, "params[0]"):
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], W_i=params[0]["W_i"][:, :1])], "lstm")
    with raises_naming(ValueError, "params"):
        cudnn_rnn_forward(x, h0, None, params, "gru")
    with raises_naming(ValueError, "params"):
        cudnn_rnn_forward(x, h0, c0, params, "lstm", direction="bidirectional")
    with raises_naming(TypeError, "params"):
        cudnn_rnn_forward(x.astype(np.float32), h0, c0, params, "lstm")
    gru = init_cudnn_params("gru", 2, H, rng=0)
    with raises_naming(ValueError, "c0"):
        cudnn_rnn_forward(x, h0, c0, gru, "gru")


def test_params_must_be_a_non_empty_list_of_dicts_with_the_modes_keys():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 1, "linear")
    for bad in ([], tuple(params), [params[0], "W_i"]):
        with raises_naming(TypeError, "params") as info:
            cudnn_rnn_forward(x, h0, c0, bad, "lstm")
        assert "expected a non-empty list of dicts" in str(info.value)
    with raises_naming(ValueError, "params[0]") as info:
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], extra=params[0]["W_i"])], "lstm")
    assert "expected keys ['W_i', 'W_f', 'W_g', 'W_o', 'R_i'" in str(info.value) and "'extra']" in str(info.value)
    with raises_naming(ValueError, "params[0]") as info:
        cudnn_rnn_forward(x, h0, None, params, "gru")  # LSTM parameters read as a GRU's
    assert "expected key 'R_n' for mode='gru'" in str(info.value)
    with raises_naming(TypeError, "params[0]['R_o']"):  # the sizes are read from the last R
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], R_o=params[0]["R_o"].tolist())], "lstm")
    with raises_naming(ValueError, "params[0]['R_o']"):  # a non-square R is blamed, not the W read against it
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], R_o=params[0]["R_o"][:, :2])], "lstm")
    with raises_naming(ValueError, "params[0]['W_f']"):
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], W_f=params[0]["W_f"][:2])], "lstm")
    with raises_naming(ValueError, "params[0]['bW_g']"):
        cudnn_rnn_forward(x, h0, c0, [dict(params[0], bW_g=params[0]["bW_g"][:2])], "lstm")


def test_config_and_state_errors_name_the_argument():
    for kwargs, error, name in [
        ({"input_mode": "skip_input"}, ValueError, "input_mode"),
        ({"input_size": 0}, ValueError, "input_size"),
        ({"num_units": 2.0}, TypeError, "num_units"),
        ({"num_layers": 0}, ValueError, "num_layers"),
        ({"dtype": np.int32}, TypeError, "dtype"),
    ]:
        args = {"mode": "gru", "input_size": 2, "num_units": H, "rng": 0} | kwargs
        with raises_naming(error, name):
            init_cudnn_params(**args)
    with raises_naming(ValueError, "mode"):
        param_names("vanilla")
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 1, "linear")
    with raises_naming(ValueError, "x"):
        cudnn_rnn_forward(x[:, :0], None, None, params, "lstm")
    with raises_naming(TypeError, "h0"):
        cudnn_rnn_forward(x, h0.astype(np.float32), c0, params, "lstm")
    with raises_naming(TypeError, "c0"):
        cudnn_rnn_forward(x, h0, c0.astype(np.float32), params, "lstm")
    gru = init_cudnn_params("gru", 2, H, rng=0)
    with raises_naming(ValueError, "c0") as info:
        cudnn_rnn_forward(x, h0, c0, gru, "gru")
    assert str(info.value).endswith("(only LSTM has a cell state), got ndarray")
    with raises_naming(TypeError, "training") as info:
        cudnn_rnn_forward(x, h0, c0, params, "lstm", training=1)
    assert str(info.value).endswith("got int")


def test_dropout_needs_training_true_and_an_rng_only_between_layers():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 2, "linear")
    y_plain = cudnn_rnn_forward(x, h0, c0, params, "lstm")[0]
    np.testing.assert_array_equal(cudnn_rnn_forward(x, h0, c0, params, "lstm", dropout=0.5, rng=5)[0], y_plain)
    with raises_naming(TypeError, "rng") as info:
        cudnn_rnn_forward(x, h0, c0, params, "lstm", dropout=0.5, training=True)
    assert str(info.value) == "rng: expected a numpy.random.Generator or an int seed for dropout > 0, got None"
    one = params[:1]  # one layer: nothing to drop, so no rng is needed
    np.testing.assert_array_equal(cudnn_rnn_forward(x, h0[:1], c0[:1], one, "lstm", dropout=0.5, training=True)[0],
                                  cudnn_rnn_forward(x, h0[:1], c0[:1], one, "lstm")[0])


def test_dropout_keeps_float32():
    params, x, h0, c0, _ = _setup("gru", "unidirectional", 2, "linear", dtype=np.float32)
    y, h_n, _, cache = cudnn_rnn_forward(x, h0, None, params, "gru", dropout=0.5, training=True, rng=1)
    assert y.dtype == h_n.dtype == cache["layers"][1]["mask"].dtype == np.float32
    assert cudnn_rnn_backward(np.ones_like(y), None, None, cache)[0].dtype == np.float32


def test_bad_dropout_and_rng():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 2, "linear")
    for p in (1.0, -0.1):
        with raises_naming(ValueError, "dropout"):
            cudnn_rnn_forward(x, h0, c0, params, "lstm", dropout=p)
    with raises_naming(TypeError, "rng"):
        cudnn_rnn_forward(x, h0, c0, params, "lstm", dropout=0.5, training=True)
    with raises_naming(TypeError, "training"):
        cudnn_rnn_forward(x, h0, c0, params, "lstm", training=1)


def test_bad_backward_and_conversion_inputs():
    params, x, h0, c0, _ = _setup("lstm", "unidirectional", 1, "linear")
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, "lstm")
    with raises_naming(ValueError, "dy"):
        cudnn_rnn_backward(y[:, :-1], None, None, cache)
    with raises_naming(ValueError, "dh_n"):
        cudnn_rnn_backward(y, h_n[0], None, cache)
    with raises_naming(ValueError, "dc_n"):
        cudnn_rnn_backward(y, None, c_n[0], cache)
    gru_params, *_ = _setup("gru", "unidirectional", 1, "linear")
    gru_y, gru_h, _, gru_cache = cudnn_rnn_forward(x, None, None, gru_params, "gru")
    with raises_naming(ValueError, "dc_n") as info:
        cudnn_rnn_backward(gru_y, None, gru_h, gru_cache)
    assert str(info.value).endswith("(only LSTM has a cell), got ndarray")
    weights, biases = params_to_canonical(params, "lstm")
    with raises_naming(ValueError, "weights"):
        canonical_to_params(weights[:-1], biases, "lstm", 2, H)
    with raises_naming(ValueError, "weights[0]"):
        canonical_to_params([w.T for w in weights], biases, "lstm", 2, H)
    kernel, recurrent_kernel, bias = params_to_keras(init_cudnn_params("gru", 2, H, rng=0)[0], "gru")
    with raises_naming(ValueError, "weights"):
        keras_to_params([kernel, recurrent_kernel, bias.ravel()], "gru")


class FixedDraws(np.random.Generator):
    """A Generator whose ``random`` repeats the given uniform draws over the shape asked for."""

    def __init__(self, draws):
        super().__init__(np.random.PCG64(0))
        self.draws = np.asarray(draws, dtype=np.float64)

    def random(self, size=None, dtype=np.float64, out=None):
        return np.resize(self.draws, size).astype(dtype)


def test_dropout_keeps_an_entry_whose_uniform_draw_is_at_least_p():
    """rng.random is uniform on [0, 1): keeping the entries whose draw r has r >= p keeps each with
    probability exactly 1 - p (a draw equal to p is kept). The second layer reads the first layer's
    output times keep / (1 - p)."""
    p = 0.25
    draws = [p, np.nextafter(p, 0), 0.0, 1 - 2.0**-53, np.nextafter(p, 1)]
    params, x, _, _, _ = _setup("gru", "unidirectional", 2, "linear")
    y = cudnn_rnn_forward(x, None, None, params, "gru", dropout=p, training=True, rng=FixedDraws(draws))[0]
    first = cudnn_rnn_forward(x, None, None, params[:1], "gru")[0]
    keep = np.resize(np.array([1.0, 0.0, 0.0, 1.0, 1.0]), first.shape)
    expected = cudnn_rnn_forward(first * (keep / (1 - p)), None, None, params[1:], "gru")[0]
    np.testing.assert_array_equal(y, expected)


def test_a_wrong_state_shape_is_reported_with_the_integer_shape_expected():
    params, x, h0, c0, _ = _setup("lstm", "bidirectional", 2, "linear")
    with raises_naming(ValueError, "h0") as info:
        cudnn_rnn_forward(x, h0[:3], c0, params, "lstm", direction="bidirectional")
    assert str(info.value) == f"h0: expected shape (4, {B}, {H}), got shape (3, {B}, {H})"


def test_conversion_says_what_is_wrong_with_the_first_layers_parameters():
    params, *_ = _setup("lstm", "unidirectional", 1, "linear")
    for bad, ending in [((), "got tuple"), (tuple(params), "got tuple"), ([], "got list"), ("W_i", "got str")]:
        with raises_naming(TypeError, "params") as info:
            params_to_canonical(bad, "lstm")
        assert str(info.value) == f"params: expected a non-empty list of dicts, {ending}"
    missing = {k: a for k, a in params[0].items() if k != "W_i"}
    for bad in ([missing], [dict(params[0], W_i=params[0]["W_i"][0])], [dict(params[0], W_i=[[1.0]])]):
        with raises_naming(ValueError, "params[0]") as info:
            params_to_canonical(bad, "lstm")
        got = sorted(bad[0])
        assert str(info.value) == f"params[0]: expected a 2-D array 'W_i' for mode='lstm', got keys {got}"
