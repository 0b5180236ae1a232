"""rnnlib against Keras 3: every weight mapping of rnnlib.keras_interop, forwards and backwards.

Each test names the mapping it checks, so a failure says which correspondence broke
(``kernel = W.T``, ``recurrent_kernel = U.T``, ``bias = b``, ``embeddings = W.T``,
``Dense.kernel = V.T``, ...), not which notebook cell. The pure-numpy mappings are
tested first, without TensorFlow; the rest is skipped where TensorFlow is missing.

Tolerances are relative to the largest entry of the reference (at least 1): the
compared quantities are hidden states in (-1, 1), logits and losses of order 1-40,
and gradients summed over B*T terms of order 1-10.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import as64, make_rnn_problem, raises_naming

import rnnlib
from rnnlib import keras_interop as ki
from rnnlib.models import LM_PARAM_NAMES

# Keras in float32 against rnnlib in float64 on the same float32-rounded weights: the
# difference is Keras' float32 rounding (unit roundoff 6e-8) carried through T steps and
# summed over B*T terms. Measured on these sizes: states and logits ~1e-7, gradients
# ~1.5e-6 for entries up to ~10, i.e. ~1.5e-7 relative. 1e-5 leaves a margin of ~50 and
# still fails on any real mapping error (a transposed U changes states by ~1e-1).
FLOAT32_RTOL = 1e-5
# Keras in float64 (dtype="float64") against rnnlib in float64: both round at 1.1e-16;
# measured differences are a few units of 1e-16 (relative). 1e-12 is a wide margin that
# a single wrong term would still exceed by orders of magnitude.
FLOAT64_RTOL = 1e-12

B, T, D, H, K = 3, 7, 5, 6, 4


def assert_close(what, got, want, rtol):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    diff = float(np.max(np.abs(got - want)))
    bound = rtol * max(1.0, float(np.max(np.abs(want))))
    assert diff <= bound, f"{what}: max |diff| = {diff:.1e} > {bound:.1e}"


def rnn_problem(seed, dtype=np.float64):
    """A float-input problem of this module's sizes (B, T, D, H)."""
    return make_rnn_problem(B, T, D, H, seed, ids=False, dtype=dtype)


# ------------------------------------------------ numpy only: the mappings --


def test_simple_rnn_mapping_is_kernel_WT_recurrent_UT_bias_b():
    p = rnn_problem(0)
    kernel, recurrent_kernel, bias = ki.simple_rnn_to_keras(p["W"], p["U"], p["b"])
    assert kernel.shape == (D, H) and recurrent_kernel.shape == (H, H) and bias.shape == (H,)
    assert np.array_equal(kernel, p["W"].T)
    assert np.array_equal(recurrent_kernel, p["U"].T)
    assert np.array_equal(bias, p["b"])


def test_simple_rnn_mapping_round_trips_exactly_both_ways():
    p = rnn_problem(1, np.float32)
    back = ki.simple_rnn_from_keras(ki.simple_rnn_to_keras(p["W"], p["U"], p["b"]))
    for name in "WUb":
        assert np.array_equal(back[name], p[name]) and back[name].dtype == np.float32, name
    rng = np.random.default_rng(2)
    keras_weights = [rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H)]
    again = ki.simple_rnn_to_keras(**ki.simple_rnn_from_keras(keras_weights))
    for got, want in zip(again, keras_weights, strict=True):
        assert np.array_equal(got, want)


def test_basic_rnn_cell_kernel_stacks_WT_over_UT():
    p = rnn_problem(3)
    kernel, bias = ki.basic_rnn_cell_from_params(p["W"], p["U"], p["b"])
    assert kernel.shape == (D + H, H)
    assert np.array_equal(kernel[:D], p["W"].T) and np.array_equal(kernel[D:], p["U"].T)
    assert np.array_equal(bias, p["b"])
    # concat([x, h]) @ kernel is x @ W.T + h @ U.T: the cell's one product is the two of rnnlib
    x, h = p["x"][:, 0], p["h0"]
    np.testing.assert_allclose(np.concatenate([x, h], axis=1) @ kernel, x @ p["W"].T + h @ p["U"].T,
                               rtol=1e-13, atol=1e-13)
    back = ki.params_from_basic_rnn_cell([kernel, bias])
    for name in "WUb":
        assert np.array_equal(back[name], p[name]), name


def test_language_model_mapping_round_trips_exactly():
    lm = rnnlib.RNNLanguageModel(D, H, K, rng=4)
    weights = ki.language_model_to_keras(lm.params)
    shapes = [w.shape for w in weights]
    assert shapes == [(D, H), (H, H), (H, H), (H,), (H, K), (K,)]
    assert np.array_equal(weights[0], lm.params["W"].T), "embeddings = W.T"
    assert np.array_equal(weights[1], np.eye(H)), "the recurrent layer's input kernel is I"
    assert np.array_equal(weights[4], lm.params["V"].T), "Dense kernel = V.T"
    back = ki.language_model_from_keras(weights)
    for name, a in lm.params.items():
        assert np.array_equal(back[name], a), name


def test_language_model_from_keras_folds_embedding_and_kernel_into_W():
    rng = np.random.default_rng(5)
    E = 3  # an embedding width other than H
    weights = [rng.normal(size=(D, E)), rng.normal(size=(E, H)), rng.normal(size=(H, H)), rng.normal(size=H),
               rng.normal(size=(H, K)), rng.normal(size=K)]
    p = ki.language_model_from_keras(weights)
    np.testing.assert_allclose(p["W"], (weights[0] @ weights[1]).T, rtol=1e-14)
    assert p["W"].shape == (H, D)


@pytest.mark.parametrize(
    ("call", "error", "names"),
    [
        (lambda: ki.simple_rnn_to_keras(np.zeros((H, D)), np.zeros((H, D)), np.zeros(H)), ValueError, "U"),
        (lambda: ki.simple_rnn_to_keras(np.zeros((H, D)), np.zeros((H, H)), np.zeros(H, np.float32)), TypeError,
         "dtype"),
        (lambda: ki.simple_rnn_from_keras([np.zeros((D, H)), np.zeros((H, H))]), ValueError, "weights"),
        (lambda: ki.simple_rnn_from_keras([np.zeros((D, H)), np.zeros((D, H)), np.zeros(H)]), ValueError,
         "recurrent_kernel"),
        (lambda: ki.params_from_basic_rnn_cell([np.zeros((H, H)), np.zeros(H)]), ValueError, "kernel"),
        (lambda: ki.language_model_to_keras({"W": np.zeros((H, D))}), ValueError, "params"),
        (lambda: ki.language_model_grads_from_keras([np.zeros((D, H))] * 4), ValueError, "grads"),
    ],
    ids=["U-not-square", "mixed-dtypes", "two-weights", "recurrent-kernel-shape", "basic-kernel-too-short",
         "lm-missing-keys", "lm-grads-count"],
)
def test_bad_input_names_the_argument(call, error, names):
    with pytest.raises(error, match=names):
        call()


# --------------------------------------------------- against Keras 3 (TF) --

try:
    from rnnlib.tfcompat import import_tensorflow

    tf = import_tensorflow()
    import keras

    # TensorFloat-32 (the default for float32 products on NVIDIA GPUs since Ampere) keeps
    # 10 mantissa bits; the float32 tolerance above assumes true float32.
    tf.config.experimental.enable_tensor_float_32_execution(False)
except ImportError:  # pragma: no cover - TensorFlow is an optional dependency
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow/Keras not installed")
DTYPES = [("float32", FLOAT32_RTOL), ("float64", FLOAT64_RTOL)]


def keras_simple_rnn(p, dtype, **kw):
    layer = keras.layers.SimpleRNN(H, return_sequences=True, return_state=True, dtype=dtype, **kw)
    layer.build((B, T, D))
    ki.set_simple_rnn_weights(layer, p["W"], p["U"], p["b"])
    return layer


@needs_tf
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_rnnlib_weights_in_keras_simple_rnn_give_rnnlib_hidden_states(dtype, rtol):
    p = rnn_problem(10, np.dtype(dtype))
    hs, _ = rnnlib.rnn_forward(**{k: v for k, v in as64(p).items() if k != "dhs"})
    layer = keras_simple_rnn(p, dtype)
    out, h_last = layer(p["x"], initial_state=[p["h0"]])
    assert_close("SimpleRNN(kernel=W.T, recurrent_kernel=U.T, bias=b) sequence", out, hs, rtol)
    assert_close("SimpleRNN final state (return_state)", h_last, hs[:, -1], rtol)
    # the same weights in RNN(SimpleRNNCell) and in the bare cell, one step at a time
    rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(H, dtype=dtype), return_sequences=True, dtype=dtype)
    rnn.build((B, T, D))
    ki.set_simple_rnn_weights(rnn, p["W"], p["U"], p["b"])
    assert_close("RNN(SimpleRNNCell) sequence", rnn(p["x"], initial_state=[p["h0"]]), hs, rtol)
    cell, h = layer.cell, p["h0"]
    for t in range(T):
        y, (h,) = cell(p["x"][:, t], [h])
        assert_close(f"SimpleRNNCell step {t}", y, hs[:, t], rtol)


@needs_tf
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_keras_initial_weights_read_into_rnnlib_give_keras_hidden_states(dtype, rtol):
    x = np.random.default_rng(11).normal(size=(B, T, D)).astype(dtype)
    keras.utils.set_random_seed(11)  # Keras' initializers draw from its global seed
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype=dtype)
    out = layer(x)  # Keras' own glorot-uniform / orthogonal / zeros initial weights
    p = ki.get_simple_rnn_weights(layer)
    assert p["W"].shape == (H, D) and p["W"].dtype == np.dtype(dtype)
    hs, _ = rnnlib.rnn_forward(x.astype(np.float64), None, *as64(p).values())
    assert_close("W = kernel.T, U = recurrent_kernel.T, b = bias", hs, out, rtol)


@needs_tf
def test_set_then_get_round_trips_exactly_through_a_keras_layer():
    p = rnn_problem(12, np.float32)
    layer = keras_simple_rnn(p, "float32")
    back = ki.get_simple_rnn_weights(layer)
    for name in "WUb":
        assert np.array_equal(back[name], p[name]), name


@needs_tf
def test_set_refuses_a_silent_cast_and_an_unbuilt_layer():
    p = rnn_problem(13, np.float64)
    layer = keras.layers.SimpleRNN(H)
    with raises_naming(ValueError, "layer"):
        ki.set_simple_rnn_weights(layer, p["W"], p["U"], p["b"])
    layer.build((B, T, D))
    with pytest.raises(TypeError, match="W: expected dtype float32"):
        ki.set_simple_rnn_weights(layer, p["W"], p["U"], p["b"])


@needs_tf
def test_go_backwards_is_rnnlib_on_the_reversed_sequence_in_reversed_order():
    p = rnn_problem(14)
    layer = keras_simple_rnn(p, "float64", go_backwards=True)
    out, h_last = layer(p["x"], initial_state=[p["h0"]])
    hs_rev, _ = rnnlib.rnn_forward(p["x"][:, ::-1].copy(), p["h0"], p["W"], p["U"], p["b"])
    assert_close("go_backwards output[t] = h after reading x[T-1], ..., x[T-1-t]", out, hs_rev, FLOAT64_RTOL)
    assert_close("go_backwards final state", h_last, hs_rev[:, -1], FLOAT64_RTOL)


@needs_tf
def test_unroll_computes_what_the_while_loop_computes():
    p = rnn_problem(15)
    loop = keras_simple_rnn(p, "float64")
    unrolled = keras_simple_rnn(p, "float64", unroll=True)
    fn_loop, fn_unrolled = tf.function(loop), tf.function(unrolled)
    assert_close("unroll=True vs tf.while_loop", fn_unrolled(p["x"])[0], fn_loop(p["x"])[0], FLOAT64_RTOL)


@needs_tf
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_gradient_tape_equals_rnnlib_bptt_for_every_parameter(dtype, rtol):
    p = rnn_problem(16, np.dtype(dtype))
    layer = keras_simple_rnn(p, dtype)
    x, h0 = tf.constant(p["x"]), tf.constant(p["h0"])
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        out, _ = layer(x, initial_state=[h0])
        loss = tf.reduce_sum(out * p["dhs"])  # so dL/dh_t = dhs_t, rnn_backward's input
    cell = layer.cell
    g = tape.gradient(loss, [cell.kernel, cell.recurrent_kernel, cell.bias, x, h0])
    mapped = ki.simple_rnn_from_keras([t.numpy() for t in g[:3]])
    q = as64(p)
    _, cache = rnnlib.rnn_forward(q["x"], q["h0"], q["W"], q["U"], q["b"])
    want = rnnlib.rnn_backward(q["dhs"], cache)
    assert_close("dW = d kernel.T", mapped["W"], want["dW"], rtol)
    assert_close("dU = d recurrent_kernel.T", mapped["U"], want["dU"], rtol)
    assert_close("db = d bias", mapped["b"], want["db"], rtol)
    assert_close("dx", g[3], want["dx"], rtol)
    assert_close("dh0 (initial_state)", g[4], want["dh0"], rtol)


def lm_problem(seed, dtype):
    rng = np.random.default_rng(seed)
    lm = rnnlib.RNNLanguageModel(D, H, K, rng=rng, dtype=np.dtype(dtype))
    x, y = rng.integers(0, D, size=(B, T)), rng.integers(0, K, size=(B, T))
    return lm, x, y


def keras_lm_loss_and_grads(model, x, y):
    with tf.GradientTape() as tape:
        logits = model(x)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grads = tape.gradient(loss, model.trainable_variables)  # embeddings' gradient is sparse (IndexedSlices)
    grads = ki.language_model_grads_from_keras([tf.convert_to_tensor(g).numpy() for g in grads])
    return logits.numpy(), float(loss), grads


@needs_tf
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_language_model_logits_loss_and_every_gradient_agree(dtype, rtol):
    lm, x, y = lm_problem(20, dtype)
    model = ki.build_keras_language_model(D, H, K, dtype=dtype)
    ki.set_language_model_weights(model, lm.params)
    logits_k, loss_k, grads_k = keras_lm_loss_and_grads(model, x, y)
    lm.params = as64(lm.params)
    logits, _ = lm.forward(x)
    loss, grads, _ = lm.loss(x, y)
    assert_close("logits of Embedding(W.T) -> SimpleRNN -> Dense(V.T, b_y)", logits_k, logits, rtol)
    assert_close("summed cross-entropy", loss_k, loss, rtol)
    for name in LM_PARAM_NAMES:
        assert_close(f"gradient of {name}", grads_k[name], grads[name], rtol)


@needs_tf
def test_language_model_set_then_get_round_trips_exactly():
    lm, _, _ = lm_problem(21, "float32")
    model = ki.build_keras_language_model(D, H, K)
    ki.set_language_model_weights(model, lm.params)
    back = ki.get_language_model_weights(model)
    for name, a in lm.params.items():
        assert np.array_equal(back[name], a), name
    assert len(model.trainable_variables) == 5, "the identity input kernel must be frozen"


@needs_tf
def test_any_keras_language_model_reads_into_rnnlib():
    """Embedding(D, E) -> SimpleRNN(H) -> Dense(K) with Keras' own weights: W = (embeddings @ kernel).T."""
    rng = np.random.default_rng(22)
    keras.utils.set_random_seed(22)
    model = keras.Sequential([keras.Input((T,), dtype="int32"), keras.layers.Embedding(D, 3),
                              keras.layers.SimpleRNN(H, return_sequences=True), keras.layers.Dense(K)])
    x = rng.integers(0, D, size=(B, T))
    logits_k = model(x).numpy()
    p = ki.language_model_from_keras([np.asarray(w) for w in model.get_weights()])
    lm = rnnlib.RNNLanguageModel(D, H, K, rng=0)
    lm.params = as64(p)
    assert_close("logits with W = (embeddings @ kernel).T", lm.forward(x)[0], logits_k, FLOAT32_RTOL)


@needs_tf
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_stateful_keras_chunk_by_chunk_equals_rnnlib_chunked_truncated_bptt(dtype, rtol):
    T_long, chunk = 12, 4
    rng = np.random.default_rng(23)
    lm = rnnlib.RNNLanguageModel(D, H, K, rng=rng, dtype=np.dtype(dtype))
    x, y = rng.integers(0, D, size=(B, T_long)), rng.integers(0, K, size=(B, T_long))
    model = ki.build_keras_language_model(D, H, K, batch_size=B, stateful=True, dtype=dtype)
    ki.set_language_model_weights(model, lm.params)
    lm.params = as64(lm.params)
    h, total = None, {k: np.zeros_like(a) for k, a in lm.params.items()}
    for start in range(0, T_long, chunk):
        xc, yc = x[:, start:start + chunk], y[:, start:start + chunk]
        _, loss_k, grads_k = keras_lm_loss_and_grads(model, xc, yc)
        loss, grads, h = lm.loss(xc, yc, h0=h)  # the last state carried in, no gradient across
        assert_close(f"chunk at {start}: loss", loss_k, loss, rtol)
        for name in LM_PARAM_NAMES:
            assert_close(f"chunk at {start}: gradient of {name}", grads_k[name], grads[name], rtol)
        assert_close(f"chunk at {start}: carried state", model.get_layer("rnn").states[0].numpy(), h, rtol)
        total = {k: total[k] + grads[k] for k in total}
    _, whole, _ = lm.loss(x, y, chunk=chunk)
    for name in LM_PARAM_NAMES:  # the per-chunk gradients sum to rnn_backward(chunk=c) on the whole
        assert_close(f"sum over chunks vs chunk={chunk}: {name}", total[name], whole[name], FLOAT64_RTOL)
