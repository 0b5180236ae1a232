"""Convert rnnlib's cuDNN parameters to and from cuDNN's canonical lists and Keras 3 weights.

numpy only: nothing here imports TensorFlow (``rnnlib.cudnn.tf_ops`` does, lazily). The three
layouts are described on the API page; when Keras 3 itself hands its LSTM and GRU to cuDNN:
Chapter 5, section "When Keras runs cuDNN" (book/05_cudnn.ipynb).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_choice
from .params import (
    MODES,
    check_config,
    check_param,
    check_params,
    input_size_of,
    key,
    layer_input_size,
    param_names,
    param_shape,
)

# Keras' gate order for each mode, written with rnnlib's gate names (see the module docstring).
KERAS_GATES = {"rnn_tanh": ("",), "rnn_relu": ("",), "lstm": ("i", "f", "g", "o"), "gru": ("z", "r", "n")}


def params_to_canonical(params: list[dict[str, np.ndarray]], mode: str, direction: str = "unidirectional",
                        input_mode: str = "linear") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """rnnlib parameters -> ``(weights, biases)``, cuDNN's canonical flat lists (copies).

    In ``input_mode='skip'`` identity matrices stand in for layer 0's missing input matrices
    (x_t added as it is), so ``canonical_to_params`` of the lists in linear mode is the same
    network. That is not cuDNN's layout (cuDNN 7 gives those regions size 0; TensorFlow's
    converters CHECK-abort in skip mode, tensorflow#16042): these lists are not for
    ``tf.raw_ops.CudnnRNNCanonicalToParams`` in skip mode.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    input_size = input_size_of(params, mode, input_mode)
    _, num_units = check_params(params, mode, input_size, direction, input_mode)
    matrices, bias_names = param_names(mode)
    weights, biases = [], []
    for p in params:
        for name in matrices:
            if name in p:
                weights.append(np.array(p[name]))
            else:  # skip mode, layer 0
                weights.append(np.eye(num_units, dtype=p[bias_names[0]].dtype))
        biases += [np.array(p[name]) for name in bias_names]
    return weights, biases


def canonical_to_params(weights: list[np.ndarray], biases: list[np.ndarray], mode: str, input_size: int,
                        num_units: int, num_layers: int = 1, direction: str = "unidirectional",
                        input_mode: str = "linear") -> list[dict[str, np.ndarray]]:
    """cuDNN's canonical ``(weights, biases)`` lists -> rnnlib parameters (copies).

    The inverse of :func:`params_to_canonical`; in skip mode the first layer's input
    matrices are dropped (they stand for identities).

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    input_size, num_units, num_layers, dirs = check_config(
        mode, input_size, num_units, num_layers, direction, input_mode)
    matrices, bias_names = param_names(mode)
    for name, items, per in (("weights", weights, len(matrices)), ("biases", biases, len(bias_names))):
        if not isinstance(items, list | tuple):
            raise TypeError(f"{name}: expected a list of numpy arrays, got {type(items).__name__}")
        if len(items) != num_layers * dirs * per:
            raise ValueError(f"{name}: expected {num_layers * dirs * per} arrays "
                             f"({num_layers} layers x {dirs} directions x {per}), got {len(items)}")
    params = []
    for k in range(num_layers * dirs):
        layer = k // dirs
        d_in = layer_input_size(layer, input_size, num_units, direction)
        p = {}
        for j, name in enumerate(matrices):
            shape = param_shape(name, num_units, d_in)
            w = check_param(f"weights[{k * len(matrices) + j}]", weights[k * len(matrices) + j], shape)
            if not (layer == 0 and input_mode == "skip" and name.startswith("W")):
                p[name] = np.array(w)
        for j, name in enumerate(bias_names):
            index = k * len(bias_names) + j
            p[name] = np.array(check_param(f"biases[{index}]", biases[index], (num_units,)))
        params.append(p)
    check_params(params, mode, input_size, direction, input_mode)
    return params


def params_to_keras(p: dict[str, np.ndarray], mode: str) -> list[np.ndarray]:
    """One pseudo-layer's rnnlib parameters -> Keras ``[kernel, recurrent_kernel, bias]``.

    For ``layer.set_weights`` of ``keras.layers.LSTM`` (mode ``'lstm'``),
    ``GRU(reset_after=True)`` (``'gru'``) or ``SimpleRNN`` with activation tanh/relu
    (``'rnn_tanh'``/``'rnn_relu'``). LSTM and SimpleRNN have one bias: ``bW + bR``.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    check_choice("mode", mode, MODES)
    gates = KERAS_GATES[mode]
    _check_one(p, mode)
    kernel = np.concatenate([p[key("W", g)].T for g in gates], axis=1)
    recurrent_kernel = np.concatenate([p[key("R", g)].T for g in gates], axis=1)
    b_in = np.concatenate([p[key("bW", g)] for g in gates])
    b_rec = np.concatenate([p[key("bR", g)] for g in gates])
    bias = np.stack([b_in, b_rec]) if mode == "gru" else b_in + b_rec
    return [kernel, recurrent_kernel, bias]


def keras_to_params(weights: list[np.ndarray], mode: str) -> dict[str, np.ndarray]:
    """Keras ``[kernel, recurrent_kernel, bias]`` -> one pseudo-layer's rnnlib parameters (copies).

    The single bias of Keras' LSTM and SimpleRNN becomes ``bR`` and ``bW`` is zero, the split Keras
    uses when it hands an LSTM to cuDNN (``_cudnn_lstm`` in keras/src/backend/tensorflow/rnn.py).

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    check_choice("mode", mode, MODES)
    if not isinstance(weights, list | tuple) or len(weights) != 3:
        raise TypeError(f"weights: expected [kernel, recurrent_kernel, bias], got {type(weights).__name__}")
    gates = KERAS_GATES[mode]
    G = len(gates)
    kernel = check_param("weights[0] (kernel)", weights[0], (None, None))
    H = kernel.shape[1] // G
    check_param("weights[0] (kernel)", kernel, (kernel.shape[0], G * H))
    recurrent_kernel = check_param("weights[1] (recurrent_kernel)", weights[1], (H, G * H))
    if mode == "gru":
        bias = check_param("weights[2] (bias)", weights[2], (2, G * H))
        b_in, b_rec = bias[0], bias[1]
    else:
        b_rec = check_param("weights[2] (bias)", weights[2], (G * H,))
        b_in = np.zeros_like(b_rec)
    p = {}
    for j, g in enumerate(gates):
        block = slice(j * H, (j + 1) * H)
        p[key("W", g)] = kernel[:, block].T.copy()
        p[key("R", g)] = recurrent_kernel[:, block].T.copy()
        p[key("bW", g)] = b_in[block].copy()
        p[key("bR", g)] = b_rec[block].copy()
    # back to cuDNN's linLayerID order, so that the dict reads like param_names(mode)
    matrices, bias_names = param_names(mode)
    return {name: p[name] for name in matrices + bias_names}


def _check_one(p, mode: str) -> None:
    if not isinstance(p, dict):
        raise TypeError(f"p: expected a dict of one layer's parameters, got {type(p).__name__}")
    matrices, bias_names = param_names(mode)
    if set(p) != set(matrices + bias_names):
        raise ValueError(f"p: expected keys {matrices + bias_names} for mode={mode!r}, got keys {list(p)}")
    H = p[matrices[-1]].shape[0] if isinstance(p[matrices[-1]], np.ndarray) else 0
    D = p[matrices[0]].shape[-1] if isinstance(p[matrices[0]], np.ndarray) else 0
    for name in matrices + bias_names:
        check_param(f"p[{name!r}]", p[name], param_shape(name, H, D))

