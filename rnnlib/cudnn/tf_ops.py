"""Run rnnlib's cuDNN parameters through TensorFlow's own cuDNN kernels (GPU only; Chapter 5).

An edge module: TensorFlow is imported lazily, inside the functions. ``tf.raw_ops.CudnnRNN``
is time-major: ``input`` (T, B, D), ``input_h``/``input_c`` (num_layers*dirs, B, H),
``output`` (T, B, dirs*H); ``params`` is cuDNN's opaque weight buffer (see :func:`pack_params`).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_choice
from .convert import params_to_canonical
from .params import MODES, check_params, input_size_of, num_dirs, param_names

# rnnlib's input_mode names -> TensorFlow's (cudnnRNNInputMode_t)
TF_INPUT_MODES = {"linear": "linear_input", "skip": "skip_input"}
PACKINGS = ("canonical_to_params", "per_layer_concat")


def pack_params(params: list[dict[str, np.ndarray]], mode: str, direction: str = "unidirectional",
                input_mode: str = "linear", packing: str = "canonical_to_params"):
    """Build cuDNN's opaque params buffer (a 1-D tf.Tensor) from rnnlib parameters; GPU only.

    ``packing='canonical_to_params'`` lets ``tf.raw_ops.CudnnRNNCanonicalToParams`` place the
    canonical arrays; ``'per_layer_concat'`` concatenates each pseudo-layer's row-major matrices
    in linLayerID order, then the biases: for one unidirectional layer exactly what Keras builds
    for ``CudnnRNNV3`` (``_standardize_cudnn_weights``), for more a guess checked against
    ``tf.raw_ops.CudnnRNNParamsSize`` (in skip mode, layer 0's identity stand-ins are left out
    when that makes the sizes agree). In skip mode ``'canonical_to_params'`` is expected to abort
    the process (tensorflow#16042): run such calls in a child process.
    """
    from ..tfcompat import import_tensorflow

    tf = import_tensorflow()
    check_choice("packing", packing, PACKINGS)
    input_size = input_size_of(params, mode, input_mode)
    num_layers, num_units = check_params(params, mode, input_size, direction, input_mode)
    weights, biases = params_to_canonical(params, mode, direction, input_mode)
    common = {
        "num_layers": tf.constant(num_layers, tf.int32),
        "num_units": tf.constant(num_units, tf.int32),
        "input_size": tf.constant(input_size, tf.int32),
        "rnn_mode": mode,
        "input_mode": TF_INPUT_MODES[input_mode],
        "direction": direction,
    }
    if packing == "canonical_to_params":
        return tf.raw_ops.CudnnRNNCanonicalToParams(
            weights=[tf.constant(w) for w in weights], biases=[tf.constant(b) for b in biases], **common
        )
    size = int(tf.raw_ops.CudnnRNNParamsSize(T=tf.as_dtype(weights[0].dtype), S=tf.int64, **common))
    n_mat, n_bias = (len(names) for names in param_names(mode))
    dirs = num_dirs(direction)
    candidates = []
    for keep_skip_identities in (True, False):
        chunks = []
        for k in range(len(params)):
            mats = weights[k * n_mat:(k + 1) * n_mat]
            if input_mode == "skip" and k < dirs and not keep_skip_identities:
                mats = mats[n_mat // 2:]
            chunks += [m.ravel() for m in mats] + list(biases[k * n_bias:(k + 1) * n_bias])
        candidates.append(np.concatenate(chunks))
    for flat in candidates:
        if flat.size == size:
            return tf.constant(flat)
    sizes = sorted({c.size for c in candidates})
    raise ValueError(f"packing: per_layer_concat gives {sizes} values, "
                     f"CudnnRNNParamsSize says {size}")


def cudnn_tf_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, params: list[dict[str, np.ndarray]],
                     mode: str, *, direction: str = "unidirectional", input_mode: str = "linear",
                     packing: str = "canonical_to_params", op: str = "CudnnRNN"):
    """Inference forward pass with TensorFlow's cuDNN kernel; rnnlib's shapes in and out.

    x (B, T, D), h0 (num_layers*dirs, B, H), c0 like h0 for LSTM (else None), params as
    for :func:`rnnlib.cudnn.stack.cudnn_rnn_forward`. Returns numpy ``(y, h_n, c_n)`` with
    y (B, T, dirs*H) and c_n None unless LSTM. ``op`` is ``'CudnnRNN'`` or
    ``'CudnnRNNV3'`` (the one Keras calls). Runs on ``/GPU:0``.
    """
    from ..tfcompat import import_tensorflow

    tf = import_tensorflow()
    check_choice("mode", mode, MODES)
    check_choice("op", op, ("CudnnRNN", "CudnnRNNV3"))
    with tf.device("/GPU:0"):
        packed = pack_params(params, mode, direction, input_mode, packing)
        args = {
            "input": tf.constant(np.ascontiguousarray(x.transpose(1, 0, 2))),  # time-major
            "input_h": tf.constant(h0),
            "input_c": tf.constant(c0 if mode == "lstm" else np.zeros_like(h0)),  # ignored unless LSTM
            "params": packed,
            "rnn_mode": mode,
            "input_mode": TF_INPUT_MODES[input_mode],
            "direction": direction,
            "is_training": False,
        }
        if op == "CudnnRNNV3":
            lengths = tf.fill([x.shape[0]], x.shape[1])
            y, h_n, c_n, *_ = tf.raw_ops.CudnnRNNV3(sequence_lengths=lengths, time_major=True, **args)
        else:
            y, h_n, c_n, *_ = tf.raw_ops.CudnnRNN(**args)
    y = np.transpose(y.numpy(), (1, 0, 2))
    return y, h_n.numpy(), (c_n.numpy() if mode == "lstm" else None)
