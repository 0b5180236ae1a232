"""Run TF1's BasicRNNCell (from tf-keras) on rnnlib's weights; print the comparisons as JSON.

TF_USE_LEGACY_KERAS must be set before TensorFlow is imported and holds for the whole
process, so ``tests/test_basic_rnn_cell.py`` runs this script in a subprocess of its
own. Usage: ``python tests/legacy_basic_rnn_cell.py`` (prints one JSON object).
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from rnnlib import keras_interop as ki
from rnnlib import rnn_backward, rnn_forward
from rnnlib.tfcompat import import_tensorflow

B, T, D, H = 3, 6, 4, 5


def max_diff(got, want) -> float:
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))))


def compare(tf, dtype) -> dict:
    rng = np.random.default_rng(0)
    W, U, b = 0.5 * rng.normal(size=(H, D)), 0.4 * rng.normal(size=(H, H)), 0.2 * rng.normal(size=H)
    x, h0, dhs = rng.normal(size=(B, T, D)), 0.5 * rng.normal(size=(B, H)), rng.normal(size=(B, T, H))
    W, U, b, x, h0 = (a.astype(dtype) for a in (W, U, b, x, h0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cell = tf.compat.v1.nn.rnn_cell.BasicRNNCell(H, dtype=dtype)
    cell.build((None, D))
    ki.set_basic_rnn_cell_weights(cell, W, U, b)
    xt, h0t = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch([xt, h0t])
        out, state = tf.compat.v1.nn.dynamic_rnn(cell, xt, initial_state=h0t)
        loss = tf.reduce_sum(out * dhs.astype(dtype))
    g_kernel, g_bias, g_x, g_h0 = tape.gradient(loss, [*cell.weights, xt, h0t])
    g = ki.params_from_basic_rnn_cell([g_kernel.numpy(), g_bias.numpy()])

    hs, cache = rnn_forward(*(a.astype(np.float64) for a in (x, h0, W, U, b)))
    want = rnn_backward(dhs, cache)
    back = ki.get_basic_rnn_cell_weights(cell)

    # The deprecation message says the cell "is equivalent as" SimpleRNNCell: check it.
    simple = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(H, dtype=dtype), return_sequences=True, dtype=dtype)
    simple.build((B, T, D))
    simple.set_weights(ki.simple_rnn_to_keras(W, U, b))
    return {
        "kernel_shape": [int(n) for n in cell.weights[0].shape],
        "kernel_is_WT_over_UT": bool(np.array_equal(cell.weights[0].numpy(), np.concatenate([W.T, U.T], axis=0))),
        "round_trip_exact": all(np.array_equal(back[k], a) for k, a in zip("WUb", (W, U, b), strict=True)),
        "outputs": max_diff(out, hs),
        "final_state": max_diff(state, hs[:, -1]),
        "dW": max_diff(g["W"], want["dW"]),
        "dU": max_diff(g["U"], want["dU"]),
        "db": max_diff(g["b"], want["db"]),
        "dx": max_diff(g_x, want["dx"]),
        "dh0": max_diff(g_h0, want["dh0"]),
        "simple_rnn_cell_vs_basic": max_diff(simple(xt, initial_state=[h0t]), out),
        "warning": [str(w.message) for w in caught],
        "scale": max(1.0, float(np.max(np.abs(want["dW"])))),
    }


def main() -> None:
    tf = import_tensorflow(legacy_keras=True)
    import tf_keras

    tf.config.experimental.enable_tensor_float_32_execution(False)  # true float32 on GPUs

    result = {
        "tf_keras_is_tf_keras": tf.keras.__name__.startswith("tf_keras"),
        "tf_keras_version": tf_keras.__version__,
        "float32": compare(tf, np.float32),
        "float64": compare(tf, np.float64),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
