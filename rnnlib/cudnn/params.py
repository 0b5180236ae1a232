"""The parameters of a cuDNN RNN: names in cuDNN's order, shapes, initialisation, checks."""

from __future__ import annotations

import numpy as np

from .._validate import (
    as_generator,
    check_choice,
    check_float_array,
    check_float_dtype,
    check_positive_int,
)

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
DIRECTIONS = ("unidirectional", "bidirectional")
INPUT_MODES = ("linear", "skip")

# Gates of each mode in cuDNN's linLayerID order (cudnnGetRNNLinLayerMatrixParams):
# LSTM 0-3 act on the input, 4-7 on h_{t-1}, in the order input, forget, new memory,
# output; GRU 0-2 / 3-5 in the order reset, update, new memory; RNN 0 / 1.
GATES = {"rnn_tanh": ("",), "rnn_relu": ("",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def key(kind: str, gate: str) -> str:
    """The dict key of a parameter: ``key('R', 'f')`` is ``'R_f'``; ``key('R', '')`` is ``'R'``."""
    return f"{kind}_{gate}" if gate else kind


def param_names(mode: str, *, has_input_matrix: bool = True) -> tuple[list[str], list[str]]:
    """Names of one pseudo-layer's matrices and biases, each list in linLayerID order.

    ``param_names('gru')`` is ``(['W_r', 'W_z', 'W_n', 'R_r', 'R_z', 'R_n'],
    ['bW_r', 'bW_z', 'bW_n', 'bR_r', 'bR_z', 'bR_n'])``. With
    ``has_input_matrix=False`` (first layer in skip mode) the ``W_*`` names are left out.
    """
    check_choice("mode", mode, MODES)
    gates = GATES[mode]
    matrices = [key("W", g) for g in gates] if has_input_matrix else []
    matrices += [key("R", g) for g in gates]
    biases = [key("bW", g) for g in gates] + [key("bR", g) for g in gates]
    return matrices, biases


def num_dirs(direction: str) -> int:
    check_choice("direction", direction, DIRECTIONS)
    return 2 if direction == "bidirectional" else 1


def param_shape(name: str, num_units: int, d_in: int) -> tuple:
    """Shape of one parameter: ``W_*`` (H, D_in), ``R_*`` (H, H), biases ``bW_*``, ``bR_*`` (H,)."""
    return {"W": (num_units, d_in), "R": (num_units, num_units), "b": (num_units,)}[name[0]]


def layer_input_size(layer: int, input_size: int, num_units: int, direction: str) -> int:
    """``D_in`` of a layer: ``input_size`` for layer 0, ``dirs * num_units`` above it."""
    return input_size if layer == 0 else num_dirs(direction) * num_units


def check_config(mode: str, input_size, num_units, num_layers, direction: str, input_mode: str):
    """Check the description of a cuDNN RNN; return (input_size, num_units, num_layers, dirs)."""
    check_choice("mode", mode, MODES)
    dirs = num_dirs(direction)
    check_choice("input_mode", input_mode, INPUT_MODES)
    input_size = check_positive_int("input_size", input_size)
    num_units = check_positive_int("num_units", num_units)
    num_layers = check_positive_int("num_layers", num_layers)
    return input_size, num_units, num_layers, dirs


def init_cudnn_params(mode: str, input_size: int, num_units: int, num_layers: int = 1,
                      direction: str = "unidirectional", input_mode: str = "linear", *,
                      rng, dtype=np.float64) -> list[dict[str, np.ndarray]]:
    """Random parameters for :func:`~rnnlib.cudnn.stack.cudnn_rnn_forward`: num_layers*dirs dicts, every
    entry from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's range for its cuDNN-backed layers); ``rng`` a
    ``numpy.random.Generator`` or an int seed.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    input_size, num_units, num_layers, dirs = check_config(
        mode, input_size, num_units, num_layers, direction, input_mode)
    if input_mode == "skip" and input_size != num_units:
        raise ValueError(
            f"input_size: expected input_size == num_units ({num_units}) with input_mode='skip', got {input_size}"
        )
    check_float_dtype("dtype", dtype)
    gen = as_generator(rng)
    bound = 1.0 / np.sqrt(num_units)
    params = []
    for layer in range(num_layers):
        d_in = layer_input_size(layer, input_size, num_units, direction)
        for _ in range(dirs):
            matrices, biases = param_names(mode, has_input_matrix=not (layer == 0 and input_mode == "skip"))
            shapes = {name: param_shape(name, num_units, d_in) for name in matrices + biases}
            params.append({name: gen.uniform(-bound, bound, size=s).astype(dtype) for name, s in shapes.items()})
    return params


def named_params(params: list[dict[str, np.ndarray]], direction: str = "unidirectional") -> dict[str, np.ndarray]:
    """One flat dict over all pseudo-layers, keys like ``'l1_bwd.R_f'``; values are the same arrays.

    Handy for :func:`rnnlib.gradcheck.gradient_check` and for printing; works for
    ``params`` and for the ``grads`` of ``cudnn_rnn_backward`` alike.
    """
    dirs = num_dirs(direction)
    return {
        f"l{k // dirs}_{('fwd', 'bwd')[k % dirs]}.{name}": a
        for k, p in enumerate(params)
        for name, a in p.items()
    }


def check_param(name: str, a, shape: tuple) -> np.ndarray:
    """A parameter: a float array of ``shape``, not scanned for NaN (a training loop checks its loss)."""
    return check_float_array(name, a, shape, allow_nonfinite=True)


def check_params(params, mode: str, input_size: int, direction: str, input_mode: str) -> tuple[int, int]:
    """Check the list of pseudo-layer dicts (keys and shapes); return (num_layers, num_units)."""
    dirs = num_dirs(direction)
    if not isinstance(params, list) or not params or not all(isinstance(p, dict) for p in params):
        raise TypeError(f"params: expected a non-empty list of dicts (one per layer and direction), got {params!r:.80}")
    if len(params) % dirs:
        raise ValueError(f"params: expected a multiple of {dirs} dicts for direction={direction!r}, got {len(params)}")
    r_name = param_names(mode)[0][-1]
    if r_name not in params[0]:
        raise ValueError(f"params[0]: expected key {r_name!r} for mode={mode!r}, got keys {sorted(params[0])}")
    num_units = check_param(f"params[0][{r_name!r}]", params[0][r_name], (None, None)).shape[0]
    if input_mode == "skip" and input_size != num_units:
        raise ValueError(
            f"x: expected input size == num_units ({num_units}) with input_mode='skip', got input size {input_size}"
        )
    for index, p in enumerate(params):
        layer = index // dirs
        matrices, biases = param_names(mode, has_input_matrix=not (layer == 0 and input_mode == "skip"))
        if set(p) != set(matrices + biases):
            raise ValueError(f"params[{index}]: expected keys {matrices + biases}, got keys {list(p)}")
        d_in = layer_input_size(layer, input_size, num_units, direction)
        for name in matrices + biases:
            check_param(f"params[{index}][{name!r}]", p[name], param_shape(name, num_units, d_in))
    return len(params) // dirs, num_units


def input_size_of(params, mode: str, input_mode: str) -> int:
    """D of layer 0, read from the parameters (num_units in skip mode)."""
    if not isinstance(params, list) or not params or not isinstance(params[0], dict):
        raise TypeError(f"params: expected a non-empty list of dicts, got {type(params).__name__}")
    name = param_names(mode)[0][-1] if input_mode == "skip" else param_names(mode)[0][0]
    if name not in params[0] or not isinstance(params[0][name], np.ndarray) or params[0][name].ndim != 2:
        raise ValueError(f"params[0]: expected a 2-D array {name!r} for mode={mode!r}, got keys {sorted(params[0])}")
    return params[0][name].shape[1]
