"""rnnlib's cuDNN parameters as PyTorch ``nn.RNN``/``nn.GRU``/``nn.LSTM`` state dicts, and back.

An edge module: importing it does not import torch. The two conversions are numpy only
(state-dict values may be torch tensors on the way in); :func:`import_torch` and
:func:`build_torch_rnn` import torch when called.

PyTorch keeps cuDNN's layout (``torch/nn/modules/rnn.py``, the documentation's "Variables"):
layer ``k`` of a module has ``weight_ih_l{k}`` (G*H, D_in), ``weight_hh_l{k}`` (G*H, H),
``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G*H,), the G gates' blocks stacked row-wise in cuDNN's
order (LSTM i, f, g, o; GRU r, z, n; RNN one gate), and the backward direction of a
bidirectional layer has the same names with the suffix ``_reverse``. Its GRU is the
reset-after GRU of cuDNN, ``n_t = tanh(W_n x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))``, and its
LSTM keeps both biases. So every block of an rnnlib pseudo-layer is one slice of rows:
``W_g`` is ``weight_ih[j*H:(j+1)*H]`` for the j-th gate g, ``R_g`` the same rows of
``weight_hh``, ``bW_g`` and ``bR_g`` of ``bias_ih`` and ``bias_hh``. No transposes, and the
gradients (``param.grad``) cross the same way.

Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
"""

from __future__ import annotations

import importlib
import sys

import numpy as np

from ._validate import check_choice
from .cudnn.params import GATES, MODES, check_params, key, num_dirs, param_names
from .tfcompat import silenced_native_stderr

#: The torch.nn class of each mode, and its ``nonlinearity`` argument (RNN only).
TORCH_CLASSES = {"rnn_tanh": ("RNN", "tanh"), "rnn_relu": ("RNN", "relu"), "gru": ("GRU", None),
                 "lstm": ("LSTM", None)}


def import_torch():
    """Return the ``torch`` module, imported with file descriptor 2 sent to /dev/null, so that
    no native log line can reach a notebook cell's stderr (as :mod:`rnnlib.tfcompat` does for
    TensorFlow)."""
    if "torch" in sys.modules:
        return sys.modules["torch"]
    with silenced_native_stderr():
        return importlib.import_module("torch")


def torch_names(layer: int, reverse: bool = False) -> tuple[str, str, str, str]:
    """PyTorch's four parameter names of one layer and direction, in state-dict order."""
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    return tuple(f"{kind}_{side}{suffix}" for kind in ("weight", "bias") for side in ("ih", "hh"))


def params_to_state_dict(params, mode, direction="unidirectional"):
    """rnnlib parameters (one dict per pseudo-layer) -> PyTorch's state dict (numpy copies).

    For ``torch.nn.{RNN, GRU, LSTM}(..., bidirectional=direction == 'bidirectional')``:
    ``module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})``, or see
    :func:`build_torch_rnn`. PyTorch has no skip input mode; the parameters are checked as
    ``input_mode='linear'``.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    check_choice("mode", mode, MODES)
    dirs = num_dirs(direction)
    input_size = _input_size(params, mode)
    check_params(params, mode, input_size, direction, "linear")
    state_dict = {}
    for k, p in enumerate(params):
        w_ih, w_hh, b_ih, b_hh = torch_names(k // dirs, reverse=k % dirs == 1)
        gates = GATES[mode]  # cuDNN's order, PyTorch's too: the gates' blocks of rows
        state_dict[w_ih] = np.concatenate([p[key("W", g)] for g in gates])
        state_dict[w_hh] = np.concatenate([p[key("R", g)] for g in gates])
        state_dict[b_ih] = np.concatenate([p[key("bW", g)] for g in gates])
        state_dict[b_hh] = np.concatenate([p[key("bR", g)] for g in gates])
    return dict(sorted(state_dict.items(), key=lambda item: _order(item[0])))


def state_dict_to_params(state_dict, mode: str, direction: str = "unidirectional") -> list[dict[str, np.ndarray]]:
    """A PyTorch RNN/GRU/LSTM state dict (tensors or numpy arrays) -> rnnlib parameters (copies).

    The inverse of :func:`params_to_state_dict`. The number of layers is read from the keys;
    a dict of gradients (``{name: p.grad for name, p in module.named_parameters()}``) converts
    the same way.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    check_choice("mode", mode, MODES)
    dirs = num_dirs(direction)
    if not isinstance(state_dict, dict) or not state_dict:
        raise TypeError(f"state_dict: expected a non-empty dict of tensors or arrays, got {type(state_dict).__name__}")
    num_layers = len(state_dict) // (4 * dirs)
    expected = [name for k in range(max(num_layers, 1) * dirs) for name in torch_names(k // dirs, k % dirs == 1)]
    if sorted(state_dict) != sorted(expected):
        raise ValueError(f"state_dict: expected the keys {expected} of a {direction} {TORCH_CLASSES[mode][0]}, "
                         f"got keys {list(state_dict)}")
    arrays = {name: _as_array(f"state_dict[{name!r}]", a) for name, a in state_dict.items()}
    gates = GATES[mode]
    H = arrays["weight_hh_l0"].shape[-1]
    params = []
    for k in range(num_layers * dirs):
        w_ih, w_hh, b_ih, b_hh = torch_names(k // dirs, reverse=k % dirs == 1)
        p = {}
        for j, g in enumerate(gates):
            rows = slice(j * H, (j + 1) * H)
            p[key("W", g)] = _rows(w_ih, arrays[w_ih], rows, len(gates) * H, 2)
            p[key("R", g)] = _rows(w_hh, arrays[w_hh], rows, len(gates) * H, 2)
            p[key("bW", g)] = _rows(b_ih, arrays[b_ih], rows, len(gates) * H, 1)
            p[key("bR", g)] = _rows(b_hh, arrays[b_hh], rows, len(gates) * H, 1)
        matrices, biases = param_names(mode)
        params.append({name: p[name] for name in matrices + biases})  # cuDNN's linLayerID order
    check_params(params, mode, params[0][key("W", gates[0])].shape[1], direction, "linear")
    return params


def build_torch_rnn(params, mode: str, direction: str = "unidirectional"):
    """A ``torch.nn.RNN``/``GRU``/``LSTM`` (batch_first=True, the parameters' dtype) holding ``params``.

    Its ``forward(x, h0)`` (``(h0, c0)`` for the LSTM) takes the (B, T, D) inputs and the
    (L*dirs, B, H) states of :func:`rnnlib.cudnn.stack.cudnn_rnn_forward` and returns the same y and h_n.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    state_dict = params_to_state_dict(params, mode, direction)
    torch = import_torch()
    dirs = num_dirs(direction)
    name, nonlinearity = TORCH_CLASSES[mode]
    H, D = state_dict["weight_hh_l0"].shape[1], state_dict["weight_ih_l0"].shape[1]
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[state_dict["weight_hh_l0"].dtype]
    module = getattr(torch.nn, name)(D, H, num_layers=len(params) // dirs, batch_first=True,
                                     bidirectional=dirs == 2, dtype=dtype, **kwargs)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict.items()})
    return module


# ---- helpers --------------------------------------------------------------------------------


def _order(name: str) -> tuple:
    """PyTorch's state-dict order: by layer, forward before reverse, weight_ih, weight_hh, bias_ih, bias_hh."""
    base, _, rest = name.partition("_l")
    layer, _, reverse = rest.partition("_")
    return int(layer), reverse == "reverse", ("weight_ih", "weight_hh", "bias_ih", "bias_hh").index(base)


def _input_size(params, mode: str) -> int:
    if not isinstance(params, list) or not params or not isinstance(params[0], dict):
        raise TypeError(f"params: expected a non-empty list of dicts (one per layer and direction), "
                        f"got {type(params).__name__}")
    first = param_names(mode)[0][0]
    W = params[0].get(first)
    if not isinstance(W, np.ndarray) or W.ndim != 2:
        raise ValueError(f"params[0]: expected a 2-D array {first!r} for mode={mode!r}, got keys {sorted(params[0])}")
    return W.shape[1]


def _as_array(name: str, a) -> np.ndarray:
    """A tensor's values as a numpy array (a copy), or a numpy array as it is."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32/float64 tensor or numpy array, got {type(a).__name__}")
    return a


def _rows(name: str, a: np.ndarray, rows: slice, total: int, ndim: int) -> np.ndarray:
    if a.ndim != ndim or a.shape[0] != total:
        raise ValueError(f"{name}: expected {ndim} axes with {total} rows (gates x hidden size), got shape {a.shape}")
    return np.array(a[rows])


# ---- the table of layouts that Chapter 7 prints --------------------------------------------


def layout_table(mode: str) -> list[tuple[str, str, str, str, str]]:
    """Where each rnnlib parameter of one layer lands in PyTorch, Keras 3, TF1's BasicRNNCell and
    cuDNN's canonical lists: one row of five strings per parameter, found, not written down.

    Each parameter is filled with numbers no other holds (D = 5 inputs, H = 2 units), converted
    by :func:`params_to_state_dict`, :func:`rnnlib.cudnn.convert.params_to_keras`,
    :func:`rnnlib.keras_interop.basic_rnn_cell_from_params` (rnn_tanh only) and
    :func:`rnnlib.cudnn.convert.params_to_canonical`, and searched for in each result. ``[a:b]`` slices rows,
    ``[:, a:b]`` columns, ``ᵀ`` marks a transposed block, ``(bW + bR)`` a bias that holds the sum.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    from .cudnn.convert import params_to_canonical, params_to_keras
    from .cudnn.params import param_shape
    from .keras_interop import basic_rnn_cell_from_params

    check_choice("mode", mode, MODES)
    D, H = 5, 2
    matrices, biases = param_names(mode)
    p = {name: 1000.0 * (n + 1) + np.arange(np.prod(param_shape(name, H, D))).reshape(param_shape(name, H, D))
         for n, name in enumerate(matrices + biases)}
    weights, bias_list = params_to_canonical([p], mode)
    targets = {
        "PyTorch": params_to_state_dict([p], mode),
        "Keras 3": dict(zip(("kernel", "recurrent_kernel", "bias"), params_to_keras(p, mode), strict=True)),
        "TF1 BasicRNNCell": dict(zip(("kernel", "bias"), basic_rnn_cell_from_params(p["W"], p["R"], p["bW"] + p["bR"]),
                                     strict=True)) if mode == "rnn_tanh" else {},
        "cuDNN canonical": {**{f"weights[{i}]": a for i, a in enumerate(weights)},
                            **{f"biases[{i}]": a for i, a in enumerate(bias_list)}},
    }
    rows = []
    for name in matrices + biases:
        row = [name]
        for found in targets.values():
            where = _find(found, p[name], D, H)
            if where is None and name.startswith("b"):  # one bias for both: bW + bR
                partner = ("bR" + name[2:]) if name.startswith("bW") else ("bW" + name[2:])
                where = _find(found, p[name] + p[partner], D, H)
                where = None if where is None else f"{where} (bW + bR)"
            row.append("—" if where is None else where)
        rows.append(tuple(row))
    return rows


def _symbol(n: int, D: int, H: int) -> str:
    """An offset written with D and H (D = 5 and H = 2 keep every offset of the table unique)."""
    named = {0: "0", D: "D", H: "H", D + H: "D+H"}
    return named.get(n, f"{n // H}H" if n % H == 0 else str(n))


def _span(start: int, size: int, full: int, D: int, H: int) -> str:
    if start == 0 and size == full:
        return ":"
    return f"{'' if start == 0 else _symbol(start, D, H)}:{_symbol(start + size, D, H)}"


def _find(arrays: dict, block: np.ndarray, D: int, H: int) -> str | None:
    """Where ``block`` (or its transpose) sits inside one of ``arrays``: 'name[rows, cols]' or None."""
    for name, a in arrays.items():
        for candidate, mark in ((block, ""), (block.T, "ᵀ")):
            if candidate.ndim > a.ndim or (mark and block.ndim < 2):
                continue
            hits = np.argwhere(a == candidate.flat[0])
            for index in hits:
                lead = tuple(index[: a.ndim - candidate.ndim])
                corner = index[a.ndim - candidate.ndim:]
                region = tuple(slice(c, c + s) for c, s in zip(corner, candidate.shape, strict=True))
                if a[lead + region].shape == candidate.shape and np.array_equal(a[lead + region], candidate):
                    parts = [str(i) for i in lead] + [_span(c, s, n, D, H) for c, s, n in
                                                      zip(corner, candidate.shape, a.shape[len(lead):], strict=True)]
                    inside = "" if all(part == ":" for part in parts) else f"[{', '.join(parts)}]"
                    return f"{name}{inside}{mark}"
    return None
