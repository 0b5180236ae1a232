"""rnnlib's cuDNN modes against Keras 3 on the CPU: outputs, final states and gradients.

Keras' GRU(reset_after=True) and LSTM compute cuDNN's equations (keras/src/backend/
tensorflow/rnn.py hands the same weights to cuDNN on a GPU); SimpleRNN with the two
cuDNN biases summed is cuDNN's RNN_TANH / RNN_RELU. Keras runs in float32, rnnlib in
float64 on the same (float32-rounded) weights, so the differences are float32 rounding.
"""

import numpy as np
import pytest
from conftest import as64, import_tensorflow_or_skip

from rnnlib.cudnn import (
    cudnn_rnn_backward,
    cudnn_rnn_forward,
    init_cudnn_params,
    keras_to_params,
    param_names,
    params_to_keras,
)

tf = import_tensorflow_or_skip()  # on a GPU, Keras' LSTM and GRU run cuDNN: TF32 off
import keras  # noqa: E402

# Float32 agreement. Measured on these sizes (B=3, T=5, H=4, values of order 1), the
# largest differences are about 1.5e-7 for outputs and states and 1.1e-6 for gradients
# (sums over B*T terms); 1e-5 leaves a margin of ten and still catches any real error.
ATOL = 1e-5
GRAD_ATOL = 1e-5

B, T, D, H = 3, 5, 2, 4


def _keras_layer(mode, bidirectional):
    kw = {"return_sequences": True, "return_state": True}
    if mode == "lstm":
        layer = keras.layers.LSTM(H, **kw)
    elif mode == "gru":
        layer = keras.layers.GRU(H, reset_after=True, **kw)
    else:
        layer = keras.layers.SimpleRNN(H, activation=mode.removeprefix("rnn_"), **kw)
    return keras.layers.Bidirectional(layer, merge_mode="concat") if bidirectional else layer


def _variables(layer):
    rnns = [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer]
    return [v for r in rnns for v in (r.cell.kernel, r.cell.recurrent_kernel, r.cell.bias)]


def _keras_bias_grad(g, mode):
    """Keras' LSTM/SimpleRNN bias is bW + bR: its gradient is rnnlib's dbR (= dbW)."""
    g = dict(g)
    if mode != "gru":
        g.update({k: np.zeros_like(a) for k, a in g.items() if k.startswith("bW")})
    return params_to_keras(g, mode)


def _compare(mode, num_layers, bidirectional, seed=0):
    rng = np.random.default_rng(seed)
    direction = "bidirectional" if bidirectional else "unidirectional"
    dirs = 2 if bidirectional else 1
    params32 = init_cudnn_params(mode, D, H, num_layers, direction, rng=rng, dtype=np.float32)
    params = [{k: a.astype(np.float64) for k, a in p.items()} for p in params32]
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    h0 = rng.normal(size=(num_layers * dirs, B, H)).astype(np.float32)
    c0 = rng.normal(size=h0.shape).astype(np.float32) if mode == "lstm" else None
    y, h_n, c_n, cache = cudnn_rnn_forward(
        x.astype(np.float64), h0.astype(np.float64), None if c0 is None else c0.astype(np.float64),
        params, mode, direction=direction,
    )
    Ry, Rh = rng.normal(size=y.shape), rng.normal(size=h_n.shape)
    Rc = rng.normal(size=h_n.shape) if mode == "lstm" else None
    dx, dh0, dc0, grads = cudnn_rnn_backward(Ry, Rh, Rc, cache)

    layers = [_keras_layer(mode, bidirectional) for _ in range(num_layers)]
    x_tf = tf.constant(x)
    h0_tf = [tf.constant(h) for h in h0]
    c0_tf = [tf.constant(c) for c in c0] if mode == "lstm" else None

    def run():
        inp, out_h, out_c = x_tf, [], []
        for layer_index, layer in enumerate(layers):
            ks = range(layer_index * dirs, (layer_index + 1) * dirs)
            init = [s for k in ks for s in ((h0_tf[k], c0_tf[k]) if mode == "lstm" else (h0_tf[k],))]
            out = layer(inp, initial_state=init)
            inp, states = out[0], out[1:]
            per = 2 if mode == "lstm" else 1
            out_h += states[::per]
            out_c += states[1::per] if mode == "lstm" else []
        return inp, out_h, out_c

    run()  # builds the layers
    for layer_index, layer in enumerate(layers):
        ks = range(layer_index * dirs, (layer_index + 1) * dirs)
        layer.set_weights([w for k in ks for w in params_to_keras(params32[k], mode)])
    variables = [v for layer in layers for v in _variables(layer)]
    with tf.GradientTape() as tape:
        tape.watch([x_tf, *h0_tf, *(c0_tf or [])])
        y_k, h_k, c_k = run()
        loss = tf.reduce_sum(y_k * Ry) + tf.reduce_sum(tf.stack(h_k) * Rh)
        if mode == "lstm":
            loss += tf.reduce_sum(tf.stack(c_k) * Rc)
    g = tape.gradient(loss, [x_tf, *h0_tf, *(c0_tf or []), *variables])

    np.testing.assert_allclose(y_k.numpy(), y, rtol=0, atol=ATOL)
    np.testing.assert_allclose(np.stack(h_k), h_n, rtol=0, atol=ATOL)
    if mode == "lstm":
        np.testing.assert_allclose(np.stack(c_k), c_n, rtol=0, atol=ATOL)
    n = len(h0_tf)
    np.testing.assert_allclose(g[0].numpy(), dx, rtol=0, atol=GRAD_ATOL)
    np.testing.assert_allclose(np.stack(g[1:1 + n]), dh0, rtol=0, atol=GRAD_ATOL)
    if mode == "lstm":
        np.testing.assert_allclose(np.stack(g[1 + n:1 + 2 * n]), dc0, rtol=0, atol=GRAD_ATOL)
    keras_grads = [w for gk in grads for w in _keras_bias_grad(gk, mode)]
    for i, (got, want) in enumerate(zip(g[len(g) - len(variables):], keras_grads, strict=True)):
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=GRAD_ATOL, err_msg=f"weight {i}")


@pytest.mark.parametrize("mode", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_one_layer_matches_keras(mode):
    _compare(mode, 1, False)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_bidirectional_matches_keras_bidirectional(mode):
    _compare(mode, 1, True)


@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm", "gru"])
def test_two_stacked_layers_match_two_keras_layers(mode):
    _compare(mode, 2, False)


def test_two_stacked_bidirectional_lstm_matches_keras():
    _compare("lstm", 2, True)


def _keras_forward(layer, x):
    out = layer(tf.constant(x))
    return [o.numpy() for o in out]


@pytest.mark.parametrize("mode", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_keras_initialised_weights_convert_to_rnnlib(mode):
    """keras_to_params on Keras' own initial weights (LSTM: unit_forget_bias) gives Keras' outputs."""
    x = np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)
    layer = _keras_layer(mode, bidirectional=False)
    y_k, h_k, *c_k = _keras_forward(layer, x)
    p = keras_to_params(layer.get_weights(), mode)
    assert list(p) == [*param_names(mode)[0], *param_names(mode)[1]]  # linLayerID order
    y, h_n, c_n, _ = cudnn_rnn_forward(x.astype(np.float64), None, None, [as64(p)], mode)
    np.testing.assert_allclose(y, y_k, rtol=0, atol=ATOL)
    np.testing.assert_allclose(h_n[0], h_k, rtol=0, atol=ATOL)
    if mode == "lstm":
        np.testing.assert_allclose(c_n[0], c_k[0], rtol=0, atol=ATOL)
        assert not p["bW_f"].any() and np.all(p["bR_f"] == 1.0)  # Keras' forget bias went to bR


def test_keras_gru_gate_order_is_not_cudnn_order():
    """Reading Keras' GRU blocks as if they were in cuDNN's order (r, z, n) gives other outputs."""
    x = np.random.default_rng(2).normal(size=(B, T, D)).astype(np.float32)
    layer = _keras_layer("gru", bidirectional=False)
    y_k = _keras_forward(layer, x)[0]
    kernel, recurrent_kernel, bias = layer.get_weights()
    wrong = {}
    for j, g in enumerate(("r", "z", "n")):  # the mistake: cuDNN's order on Keras' blocks
        block = slice(j * H, (j + 1) * H)
        wrong.update({f"W_{g}": kernel[:, block].T, f"R_{g}": recurrent_kernel[:, block].T,
                      f"bW_{g}": bias[0, block], f"bR_{g}": bias[1, block]})
    y_wrong = cudnn_rnn_forward(x.astype(np.float64), None, None, [as64(wrong)], "gru")[0]
    assert np.abs(y_wrong - y_k).max() > 1e-2
