"""rnnlib's Elman RNN and language model as Keras 3 layers and as TF1's BasicRNNCell.

An edge module: conversions are pure numpy (copies out); only ``set_*``/``get_*`` and
:func:`build_keras_language_model` touch Keras, imported lazily through ``rnnlib.tfcompat``.
Keras multiplies row vectors (``x_t @ kernel``) where the book multiplies column vectors
(``W x_t``), so every matrix crosses transposed; the maps are linear, so gradients cross
exactly as the weights do.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    check_choice,
    check_dtype,
    check_float_array,
    check_positive_int,
    check_rnn_params,
    check_same_dtype,
)
from .models import check_lm_params


def _check_rnn_params(W, U, b) -> None:
    """W (H, D), U (H, H), b (H,) of one float dtype, as rnn_forward checks them."""
    check_rnn_params(W, U, b)
    check_same_dtype(W=W, U=U, b=b)


def _check_weights(name: str, weights, spec) -> list:
    """A list of float arrays of one dtype, one per ``(label, axes)`` of ``spec``; ``axes``
    names each axis with a letter, whose size is read where the letter first occurs."""
    if not isinstance(weights, list | tuple) or len(weights) != len(spec):
        got = len(weights) if isinstance(weights, list | tuple) else type(weights).__name__
        error = ValueError if isinstance(weights, list | tuple) else TypeError
        raise error(f"{name}: expected a list of {len(spec)} numpy arrays, got {got}")
    sizes, labels = {}, {}
    for i, ((label, axes), a) in enumerate(zip(spec, weights, strict=True)):
        labels[f"{name}[{i}] ({label})"] = check_float_array(
            f"{name}[{i}] ({label})", a, tuple(sizes.get(axis) for axis in axes))
        sizes.update(zip(axes, a.shape, strict=True))
    check_same_dtype(**labels)
    return list(weights)


_SIMPLE_RNN = (("kernel", "DH"), ("recurrent_kernel", "HH"), ("bias", "H"))
_LANGUAGE_MODEL = (("embeddings", "DE"), ("kernel", "EH"), ("recurrent_kernel", "HH"), ("bias", "H"),
                   ("dense kernel", "HK"), ("dense bias", "K"))


# ------------------------------------------------------ SimpleRNN (Keras 3) --


def simple_rnn_to_keras(W, U, b) -> list[np.ndarray]:
    """rnnlib's W (H, D), U (H, H), b (H,) -> Keras [kernel, recurrent_kernel, bias].

    ``kernel = W.T`` (D, H), ``recurrent_kernel = U.T`` (H, H), ``bias = b`` (H,),
    in the order of ``SimpleRNN.get_weights()``, ready for ``set_weights``. The
    arrays are copies, in the parameters' dtype.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    _check_rnn_params(W, U, b)
    return [W.T.copy(), U.T.copy(), b.copy()]


def simple_rnn_from_keras(weights) -> dict[str, np.ndarray]:
    """Keras [kernel (D, H), recurrent_kernel (H, H), bias (H,)] -> {"W", "U", "b"}.

    The inverse of :func:`simple_rnn_to_keras`: ``W = kernel.T``,
    ``U = recurrent_kernel.T``, ``b = bias``. The gradients of the three Keras
    variables map the same way to ``dW``, ``dU``, ``db``.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    kernel, recurrent_kernel, bias = _check_weights("weights", weights, _SIMPLE_RNN)
    return {"W": kernel.T.copy(), "U": recurrent_kernel.T.copy(), "b": bias.copy()}


def _simple_rnn_cell(layer):
    """The SimpleRNNCell of a SimpleRNN, of an RNN(SimpleRNNCell), or the cell itself."""
    cell = getattr(layer, "cell", layer)
    if type(cell).__name__ != "SimpleRNNCell":
        raise TypeError("layer: expected keras.layers.SimpleRNN, RNN(SimpleRNNCell) or "
                        f"SimpleRNNCell, got {type(layer).__name__}")
    if not cell.built:
        raise ValueError("layer: expected a built layer (call it once, or call build), "
                         "got an unbuilt one")
    if cell.bias is None:
        raise ValueError("layer: expected use_bias=True (rnnlib's b has no counterpart "
                         "otherwise), got use_bias=False")
    return cell


def _assign(name: str, variable, array: np.ndarray) -> None:
    """``variable.assign(array)`` after checking shape and dtype (nothing is cast)."""
    check_float_array(name, array, tuple(variable.shape))
    # a tf.DType (tf-keras) or a dtype string (Keras 3)
    dtype = getattr(variable.dtype, "as_numpy_dtype", variable.dtype)
    check_dtype(name, array, np.dtype(dtype))
    variable.assign(array)


def set_simple_rnn_weights(layer, W, U, b) -> None:
    """Load W, U, b into a built SimpleRNN, RNN(SimpleRNNCell) or cell, in its dtype (no cast).

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    cell = _simple_rnn_cell(layer)
    kernel, recurrent_kernel, bias = simple_rnn_to_keras(W, U, b)
    _assign("W", cell.kernel, kernel)
    _assign("U", cell.recurrent_kernel, recurrent_kernel)
    _assign("b", cell.bias, bias)


def get_simple_rnn_weights(layer) -> dict[str, np.ndarray]:
    """Read a built Keras SimpleRNN (or its cell) as rnnlib's ``{"W", "U", "b"}``.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    cell = _simple_rnn_cell(layer)
    variables = (cell.kernel, cell.recurrent_kernel, cell.bias)
    return simple_rnn_from_keras([np.asarray(w.numpy()) for w in variables])


# ---------------------------------------------------- the language model ----


def language_model_to_keras(params) -> list[np.ndarray]:
    """RNNLanguageModel.params -> the six weights of build_keras_language_model.

    In ``model.get_weights()`` order: ``embeddings = W.T`` (D, H); the recurrent
    layer's ``kernel = I`` (H, H), ``recurrent_kernel = U.T`` (H, H) and
    ``bias = b`` (H,); the output Dense layer's ``kernel = V.T`` (H, K) and
    ``bias = b_y`` (K,). Copies, in the parameters' dtype.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    _, H, _ = check_lm_params(params)
    p = params
    identity = np.eye(H, dtype=p["W"].dtype)
    return [p["W"].T.copy(), identity, p["U"].T.copy(), p["b"].copy(),
            p["V"].T.copy(), p["b_y"].copy()]


def language_model_from_keras(weights) -> dict[str, np.ndarray]:
    """Six Keras weights of Embedding -> SimpleRNN -> Dense -> RNNLanguageModel.params.

    ``weights`` is ``[embeddings (D, E), kernel (E, H), recurrent_kernel (H, H),
    bias (H,), dense_kernel (H, K), dense_bias (K,)]`` of any such model, not only one
    from :func:`build_keras_language_model`. Id ``i`` reaches the recurrence as row
    ``i`` of ``embeddings @ kernel`` (D, H), so ``W = (embeddings @ kernel).T``; with
    an identity kernel that is ``embeddings.T`` exactly (products with 0 and 1 are
    exact). ``U = recurrent_kernel.T``, ``b = bias``, ``V = dense_kernel.T``,
    ``b_y = dense_bias``.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    table, kernel, recurrent, bias, dense_kernel, dense_bias = _check_weights(
        "weights", weights, _LANGUAGE_MODEL)
    return {"W": (table @ kernel).T.copy(), "U": recurrent.T.copy(), "b": bias.copy(),
            "V": dense_kernel.T.copy(), "b_y": dense_bias.copy()}


def language_model_grads_from_keras(grads) -> dict[str, np.ndarray]:
    """The five gradients of ``model.trainable_variables`` (embeddings, recurrent kernel, bias,
    dense kernel, dense bias) of a :func:`build_keras_language_model` model -> rnnlib's
    ``{W, U, b, V, b_y}``: ``dW = d_embeddings.T``, ``dU = d_recurrent_kernel.T``, and so on.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    d_table, d_recurrent, d_bias, d_dense, d_dense_bias = _check_weights(
        "grads", grads, (("embeddings", "DH"),) + _LANGUAGE_MODEL[2:])
    return {"W": d_table.T.copy(), "U": d_recurrent.T.copy(), "b": d_bias.copy(),
            "V": d_dense.T.copy(), "b_y": d_dense_bias.copy()}


def build_keras_language_model(input_size, hidden_size, output_size=None, *,
                               batch_size=None, seq_len=None, stateful=False,
                               unroll=False, dtype="float32"):
    """Keras 3's RNNLanguageModel: ``Embedding(D, H)`` -> ``SimpleRNN(H)`` -> ``Dense(K)``.

    Layers "embedding", "rnn" (input kernel the identity, not trainable) and "output" (no
    softmax) map ids (B, T) to logits (B, T, K); K = ``output_size`` (default D).
    ``stateful=True`` needs ``batch_size``, ``unroll=True`` needs ``seq_len``; ``dtype``
    ("float32" or "float64") for every layer. Load weights with :func:`set_language_model_weights`.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    from .tfcompat import import_tensorflow

    import_tensorflow()
    import keras

    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    K = D if output_size is None else check_positive_int("output_size", output_size)
    check_choice("dtype", dtype, ("float32", "float64"))
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    if seq_len is not None:
        seq_len = check_positive_int("seq_len", seq_len)
    if stateful and batch_size is None:
        raise ValueError("batch_size: expected an integer when stateful=True "
                         "(Keras keeps one state per batch row), got None")
    if unroll and seq_len is None:
        raise ValueError("seq_len: expected an integer when unroll=True "
                         "(unrolling needs a fixed length), got None")
    rnn = keras.layers.SimpleRNN(H, return_sequences=True, stateful=stateful,
                                 unroll=unroll, kernel_initializer="identity",
                                 dtype=dtype, name="rnn")
    model = keras.Sequential([
        keras.Input(batch_shape=(batch_size, seq_len), dtype="int32"),
        keras.layers.Embedding(D, H, dtype=dtype, name="embedding"),
        rnn,
        keras.layers.Dense(K, dtype=dtype, name="output"),
    ])
    rnn.cell.kernel.trainable = False  # W lives in the embedding table: this stays I
    return model


def _lm_variables(model):
    try:
        layers = [model.get_layer(name) for name in ("embedding", "rnn", "output")]
    except (ValueError, AttributeError) as err:
        raise TypeError("model: expected a Keras model from build_keras_language_model "
                        "(layers 'embedding', 'rnn', 'output'), "
                        f"got {type(model).__name__}") from err
    embedding, rnn, dense = layers
    cell = rnn.cell
    return [embedding.embeddings, cell.kernel, cell.recurrent_kernel, cell.bias,
            dense.kernel, dense.bias]


def set_language_model_weights(model, params) -> None:
    """Load RNNLanguageModel.params into a model from build_keras_language_model.

    The arrays must already have the model's dtype (nothing is cast here).

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    names = ("W", "kernel (identity)", "U", "b", "V", "b_y")
    arrays = language_model_to_keras(params)
    for name, variable, array in zip(names, _lm_variables(model), arrays, strict=True):
        _assign(name, variable, array)


def get_language_model_weights(model) -> dict[str, np.ndarray]:
    """Read a model from build_keras_language_model as rnnlib's ``{W, U, b, V, b_y}``.

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    return language_model_from_keras([np.asarray(w.numpy()) for w in _lm_variables(model)])


# ---------------------------------------------- BasicRNNCell (TF1, tf-keras) --


def basic_rnn_cell_from_params(W, U, b) -> list[np.ndarray]:
    """rnnlib's W (H, D), U (H, H), b (H,) -> TF1 BasicRNNCell's [kernel, bias].

    The cell computes ``tanh(concat([x_t, h_prev], 1) @ kernel + bias)``, so its one
    kernel stacks both matrices: ``kernel = concatenate([W.T, U.T], axis=0)`` of
    shape (D + H, H), rows 0..D-1 for the input and rows D..D+H-1 for the state;
    ``bias = b`` (H,).

    Derived in: Chapter 4, BasicRNNCell (book/04b_basic_rnn_cell.ipynb)
    """
    _check_rnn_params(W, U, b)
    return [np.concatenate([W.T, U.T], axis=0), b.copy()]


def params_from_basic_rnn_cell(weights) -> dict[str, np.ndarray]:
    """BasicRNNCell's [kernel (D + H, H), bias (H,)] -> ``{"W", "U", "b"}``: ``W = kernel[:D].T``,
    ``U = kernel[D:].T``, ``b = bias`` (a kernel gradient splits the same way).

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    kernel, bias = _check_weights("weights", weights, (("kernel", "RH"), ("bias", "H")))
    rows, H = kernel.shape
    if rows <= H:
        raise ValueError("weights[0] (kernel): expected shape (D + H, H) with D >= 1, "
                         f"got shape {kernel.shape}")
    D = rows - H
    return {"W": kernel[:D].T.copy(), "U": kernel[D:].T.copy(), "b": bias.copy()}


def _basic_cell_variables(cell):
    weights = getattr(cell, "weights", None)
    if not isinstance(weights, list) or len(weights) != 2:
        count = None if weights is None else len(weights)
        raise ValueError("cell: expected a built BasicRNNCell with two variables "
                         f"(kernel, bias), got {type(cell).__name__} with {count} "
                         "variables (call it once, or call build)")
    return weights


def set_basic_rnn_cell_weights(cell, W, U, b) -> None:
    """Load W, U, b into a built TF1 BasicRNNCell (eager mode; needs ``import_tensorflow(legacy_keras=True)``;
    arrays in the cell's dtype).

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    kernel_var, bias_var = _basic_cell_variables(cell)
    kernel, bias = basic_rnn_cell_from_params(W, U, b)
    _assign("W, U (stacked as the kernel)", kernel_var, kernel)
    _assign("b", bias_var, bias)


def get_basic_rnn_cell_weights(cell) -> dict[str, np.ndarray]:
    """Read a built BasicRNNCell as rnnlib's ``{"W", "U", "b"}`` (eager mode).

    Derived in: Chapter 4, TensorFlow (book/04_tensorflow.ipynb)
    """
    variables = _basic_cell_variables(cell)
    return params_from_basic_rnn_cell([np.asarray(w.numpy()) for w in variables])
