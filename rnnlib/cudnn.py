"""What NVIDIA cuDNN's RNN kernels compute, written out in numpy: forward and BPTT.

Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb).

cuDNN offers four cell types (``cudnnRNNMode_t``); the names used here are the ones
TensorFlow's ``tf.raw_ops.CudnnRNN`` takes for its ``rnn_mode`` argument. With
``x_t`` the layer input and ``h_{t-1}`` the previous hidden state, every gate
``g`` has an input matrix ``W_g`` (H, D_in), a recurrent matrix ``R_g`` (H, H) and
*two* bias vectors, ``bW_g`` and ``bR_g`` (H,) each:

``rnn_tanh``  ``h_t = tanh(W x_t + R h_{t-1} + bW + bR)``

``rnn_relu``  ``h_t = relu(W x_t + R h_{t-1} + bW + bR)``

``lstm``  (gates in cuDNN order i, f, g, o; ``g`` is cuDNN's "new memory gate" c'_t)::

    i_t = sigmoid(W_i x_t + R_i h_{t-1} + bW_i + bR_i)
    f_t = sigmoid(W_f x_t + R_f h_{t-1} + bW_f + bR_f)
    g_t =    tanh(W_g x_t + R_g h_{t-1} + bW_g + bR_g)
    o_t = sigmoid(W_o x_t + R_o h_{t-1} + bW_o + bR_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

``gru``  (gates in cuDNN order r, z, n; ``z`` is cuDNN's update gate i_t, ``n`` its
new memory gate h'_t). The reset gate multiplies ``R_n h_{t-1} + bR_n``, i.e. it is
applied *after* the recurrent matrix product (Keras ``GRU(reset_after=True)``)::

    r_t = sigmoid(W_r x_t + R_r h_{t-1} + bW_r + bR_r)
    z_t = sigmoid(W_z x_t + R_z h_{t-1} + bW_z + bR_z)
    n_t =    tanh(W_n x_t + r_t * (R_n h_{t-1} + bR_n) + bW_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Layout (batch-major like the rest of rnnlib; cuDNN itself is time-major):

- ``x`` (B, T, D); ``y`` (B, T, dirs*H), the last layer's outputs, ``[forward, backward]``
  concatenated on the last axis; ``h0``, ``h_n`` and (LSTM) ``c0``, ``c_n`` are
  (num_layers*dirs, B, H), pseudo-layer ``p = layer*dirs + direction`` as in cuDNN.
- ``params`` is a list with one dict per pseudo-layer (layer 0 forward, layer 0
  backward, layer 1 forward, ...). A dict holds, in cuDNN's linLayerID order,
  ``W_<gate>`` (H, D_in), ``R_<gate>`` (H, H), ``bW_<gate>`` (H,), ``bR_<gate>`` (H,);
  the RNN modes have one gate and no suffix: ``W``, ``R``, ``bW``, ``bR``. ``D_in`` is
  D on layer 0 and dirs*H above it. See :func:`param_names`.
- ``direction='bidirectional'`` adds a second cell per layer that reads the sequence
  from t = T-1 down to 0; its output at position t is stored at position t.
- ``input_mode='skip'`` (cuDNN's CUDNN_SKIP_INPUT) removes the input matrices of the
  first layer: ``x_t`` (so D must equal H) is added to every gate's pre-activation
  as it is. The two bias vectors stay (an assumption the CPU tests cannot check;
  benchmarks/cudnn_gpu_check.py compares skip mode with cuDNN itself).
- ``dropout`` p acts between layers (on the input of layers 1..L-1, never after the
  last layer), only when ``training=True``: each entry is kept with probability 1-p
  and scaled by 1/(1-p), with the mask drawn from ``rng``.
"""

from __future__ import annotations

import numpy as np

from rnnlib._validate import (
    as_generator,
    check_choice,
    check_dtype,
    check_float_array,
    check_float_dtype,
    check_nonempty_time,
    check_positive_float,
    check_positive_int,
    check_same_dtype,
)

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
DIRECTIONS = ("unidirectional", "bidirectional")
INPUT_MODES = ("linear", "skip")

# Gates of each mode in cuDNN's linLayerID order (cudnnGetRNNLinLayerMatrixParams):
# LSTM 0-3 act on the input, 4-7 on h_{t-1}, in the order input, forget, new memory,
# output; GRU 0-2 / 3-5 in the order reset, update, new memory; RNN 0 / 1.
GATES = {"rnn_tanh": ("",), "rnn_relu": ("",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def _name(kind: str, gate: str) -> str:
    return f"{kind}_{gate}" if gate else kind


def param_names(mode: str, *, has_input_matrix: bool = True) -> tuple[list[str], list[str]]:
    """Names of one pseudo-layer's matrices and biases, each list in linLayerID order.

    ``param_names('gru')`` is ``(['W_r', 'W_z', 'W_n', 'R_r', 'R_z', 'R_n'],
    ['bW_r', 'bW_z', 'bW_n', 'bR_r', 'bR_z', 'bR_n'])``. With
    ``has_input_matrix=False`` (first layer in skip mode) the ``W_*`` names are left out.
    """
    check_choice("mode", mode, MODES)
    gates = GATES[mode]
    matrices = [_name("W", g) for g in gates] if has_input_matrix else []
    matrices += [_name("R", g) for g in gates]
    biases = [_name("bW", g) for g in gates] + [_name("bR", g) for g in gates]
    return matrices, biases


def _num_dirs(direction: str) -> int:
    check_choice("direction", direction, DIRECTIONS)
    return 2 if direction == "bidirectional" else 1


def param_shape(name: str, num_units: int, d_in: int) -> tuple:
    """Shape of one parameter: input matrices ``W_*`` are (H, D_in), recurrent ``R_*`` (H, H)."""
    return (num_units, d_in) if name.startswith("W") else (num_units, num_units)


def layer_input_size(layer: int, input_size: int, num_units: int, direction: str) -> int:
    """``D_in`` of a layer: ``input_size`` for layer 0, ``dirs * num_units`` above it."""
    return input_size if layer == 0 else _num_dirs(direction) * num_units


def check_config(mode: str, input_size, num_units, num_layers, direction: str, input_mode: str):
    """Check the description of a cuDNN RNN; return (input_size, num_units, num_layers, dirs)."""
    check_choice("mode", mode, MODES)
    dirs = _num_dirs(direction)
    check_choice("input_mode", input_mode, INPUT_MODES)
    input_size = check_positive_int("input_size", input_size)
    num_units = check_positive_int("num_units", num_units)
    num_layers = check_positive_int("num_layers", num_layers)
    return input_size, num_units, num_layers, dirs


def init_cudnn_params(
    mode: str,
    input_size: int,
    num_units: int,
    num_layers: int = 1,
    direction: str = "unidirectional",
    input_mode: str = "linear",
    *,
    rng,
    dtype=np.float64,
) -> list[dict[str, np.ndarray]]:
    """Random parameters for :func:`cudnn_rnn_forward`: a list of num_layers*dirs dicts.

    Every entry is drawn from U(-1/sqrt(H), 1/sqrt(H)) (the range PyTorch uses for its
    cuDNN-backed layers). ``rng`` is a ``numpy.random.Generator`` or an int seed.
    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb).
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
            p = {}
            for name in matrices:
                shape = param_shape(name, num_units, d_in)
                p[name] = gen.uniform(-bound, bound, size=shape).astype(dtype)
            for name in biases:
                p[name] = gen.uniform(-bound, bound, size=num_units).astype(dtype)
            params.append(p)
    return params


def named_params(params: list[dict[str, np.ndarray]], direction: str = "unidirectional") -> dict[str, np.ndarray]:
    """One flat dict over all pseudo-layers, keys like ``'l1_bwd.R_f'``; values are the same arrays.

    Handy for :func:`rnnlib.gradcheck.gradient_check` and for printing; works for
    ``params`` and for the ``grads`` of :func:`cudnn_rnn_backward` alike.
    """
    dirs = _num_dirs(direction)
    return {
        f"l{k // dirs}_{('fwd', 'bwd')[k % dirs]}.{name}": a
        for k, p in enumerate(params)
        for name, a in p.items()
    }


def _check_params(params, mode: str, input_size: int, direction: str, input_mode: str) -> tuple[int, int]:
    """Check the list of pseudo-layer dicts; return (num_layers, num_units)."""
    dirs = _num_dirs(direction)
    if not isinstance(params, list) or not params or not all(isinstance(p, dict) for p in params):
        raise TypeError(f"params: expected a non-empty list of dicts (one per layer and direction), got {params!r:.80}")
    if len(params) % dirs:
        raise ValueError(f"params: expected a multiple of {dirs} dicts for direction={direction!r}, got {len(params)}")
    num_layers = len(params) // dirs
    r_name = param_names(mode)[0][-1]
    if r_name not in params[0]:
        raise ValueError(f"params[0]: expected key {r_name!r} for mode={mode!r}, got keys {sorted(params[0])}")
    num_units = check_float_array(f"params[0][{r_name!r}]", params[0][r_name], (None, None)).shape[0]
    if input_mode == "skip" and input_size != num_units:
        raise ValueError(
            f"x: expected input size == num_units ({num_units}) with input_mode='skip', got input size {input_size}"
        )
    for index, p in enumerate(params):
        layer = index // dirs
        skip = layer == 0 and input_mode == "skip"
        matrices, biases = param_names(mode, has_input_matrix=not skip)
        if set(p) != set(matrices + biases):
            raise ValueError(f"params[{index}]: expected keys {matrices + biases}, got keys {list(p)}")
        d_in = layer_input_size(layer, input_size, num_units, direction)
        for name in matrices:
            shape = param_shape(name, num_units, d_in)
            check_float_array(f"params[{index}][{name!r}]", p[name], shape)
        for name in biases:
            check_float_array(f"params[{index}][{name!r}]", p[name], (num_units,))
    return num_layers, num_units


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow


def _cell_step_forward(mode: str, xw: dict, h_prev: np.ndarray, c_prev, p: dict):
    """One time step of one cell. ``xw[gate]`` is ``W_gate x_t + bW_gate``, (B, H).

    Returns ``(h, c, cache)``; ``c`` is None except for LSTM.
    """
    def rec(gate):  # R_gate h_{t-1} + bR_gate
        return h_prev @ p[_name("R", gate)].T + p[_name("bR", gate)]

    if mode in ("rnn_tanh", "rnn_relu"):
        a = xw[""] + rec("")
        h = np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0.0)
        return h, None, (h_prev, a, h)
    if mode == "lstm":
        i = _sigmoid(xw["i"] + rec("i"))
        f = _sigmoid(xw["f"] + rec("f"))
        g = np.tanh(xw["g"] + rec("g"))
        o = _sigmoid(xw["o"] + rec("o"))
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        return h, c, (h_prev, c_prev, i, f, g, o, tanh_c)
    # gru: the reset gate scales the recurrent term *after* the matrix product
    r = _sigmoid(xw["r"] + rec("r"))
    z = _sigmoid(xw["z"] + rec("z"))
    rec_n = rec("n")
    n = np.tanh(xw["n"] + r * rec_n)
    h = (1.0 - z) * n + z * h_prev
    return h, None, (h_prev, r, z, n, rec_n)


def _cell_step_backward(mode: str, dh: np.ndarray, dc, cache, p: dict, grads: dict):
    """Backward of :func:`_cell_step_forward`.

    Adds the gradients of ``R_*`` and ``bR_*`` into ``grads``; returns
    ``(da, dh_prev, dc_prev)`` where ``da[gate]`` is the gradient of the gate's
    pre-activation, and so of ``W_gate x_t + bW_gate``.
    """
    dh_prev, dc_prev = np.zeros_like(dh), None
    if mode in ("rnn_tanh", "rnn_relu"):
        h_prev, a, h = cache
        da = {"": dh * (1.0 - h * h) if mode == "rnn_tanh" else dh * (a > 0)}
        d_rec = da  # gradient of R h_{t-1} + bR
    elif mode == "lstm":
        h_prev, c_prev, i, f, g, o, tanh_c = cache
        dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
        da = {
            "i": dc * g * i * (1.0 - i),
            "f": dc * c_prev * f * (1.0 - f),
            "g": dc * i * (1.0 - g * g),
            "o": dh * tanh_c * o * (1.0 - o),
        }
        d_rec = da
        dc_prev = dc * f
    else:  # gru
        h_prev, r, z, n, rec_n = cache
        da_n = dh * (1.0 - z) * (1.0 - n * n)
        da = {
            "r": da_n * rec_n * r * (1.0 - r),
            "z": dh * (h_prev - n) * z * (1.0 - z),
            "n": da_n,
        }
        d_rec = {"r": da["r"], "z": da["z"], "n": da_n * r}  # r_t scales R_n h_{t-1} + bR_n
        dh_prev = dh * z  # the direct path h_t = ... + z_t * h_{t-1}
    for gate, d in d_rec.items():
        grads[_name("R", gate)] += d.T @ h_prev
        grads[_name("bR", gate)] += d.sum(axis=0)
        dh_prev += d @ p[_name("R", gate)]
    return da, dh_prev, dc_prev


def _direction_forward(mode: str, x: np.ndarray, p: dict, h0: np.ndarray, c0,
                       reverse: bool, skip: bool):
    """Run one cell over a layer input ``x`` (B, T, D_in); ``(hs, h_n, c_n, cache)``.

    ``hs`` (B, T, H) is in the original time order, also for ``reverse=True``.
    """
    T = x.shape[1]
    gates = GATES[mode]
    xw = {g: (x if skip else x @ p[_name("W", g)].T) + p[_name("bW", g)] for g in gates}
    hs = np.empty(x.shape[:2] + h0.shape[-1:], dtype=h0.dtype)
    h, c, steps = h0, c0, []
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        h, c, step = _cell_step_forward(mode, {g: xw[g][:, t] for g in gates}, h, c, p)
        hs[:, t] = h
        steps.append(step)
    return hs, h, c, {"x": x, "steps": steps, "order": list(order), "skip": skip}


def _direction_backward(mode: str, dhs: np.ndarray, dh_n: np.ndarray, dc_n, p: dict, cache: dict):
    """Backward of :func:`_direction_forward`: returns ``(dx, dh0, dc0, grads)``."""
    x = cache["x"]
    grads = {name: np.zeros_like(a) for name, a in p.items()}
    dxw = {g: np.zeros_like(dhs) for g in GATES[mode]}
    dh, dc = dh_n, dc_n
    for t, step in zip(reversed(cache["order"]), reversed(cache["steps"]), strict=True):
        da, dh, dc = _cell_step_backward(mode, dhs[:, t] + dh, dc, step, p, grads)
        for g, d in da.items():
            dxw[g][:, t] = d
    dx = np.zeros_like(x)
    for g, d in dxw.items():
        grads[_name("bW", g)] += d.sum(axis=(0, 1))
        if cache["skip"]:
            dx += d
        else:
            grads[_name("W", g)] += np.einsum("bth,btd->hd", d, x)
            dx += d @ p[_name("W", g)]
    return dx, dh, dc, grads


def cudnn_rnn_forward(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    params: list[dict[str, np.ndarray]],
    mode: str,
    *,
    direction: str = "unidirectional",
    input_mode: str = "linear",
    dropout: float = 0.0,
    training: bool = False,
    rng=None,
):
    """Forward pass of a (stacked, optionally bidirectional) cuDNN RNN.

    Args:
        x: (B, T, D) inputs.
        h0: (num_layers*dirs, B, H) initial hidden states, or None for zeros.
        c0: LSTM only: (num_layers*dirs, B, H) initial cell states, or None for zeros.
            Must be None for the other modes.
        params: one dict per pseudo-layer, see the module docstring and
            :func:`init_cudnn_params`; num_layers is ``len(params) // dirs``.
        mode: ``'rnn_tanh'``, ``'rnn_relu'``, ``'lstm'`` or ``'gru'``.
        direction: ``'unidirectional'`` or ``'bidirectional'``.
        input_mode: ``'linear'`` or ``'skip'`` (no input matrices on layer 0; D == H).
        dropout: probability p in [0, 1) of zeroing a layer's output before the next
            layer (never after the last); used only when ``training`` is True.
        training: apply dropout (cuDNN's forward-training vs forward-inference).
        rng: numpy Generator or int seed; required when training with dropout > 0.

    Returns:
        ``(y, h_n, c_n, cache)``: y (B, T, dirs*H); h_n (num_layers*dirs, B, H);
        c_n like h_n for LSTM, None otherwise; cache for :func:`cudnn_rnn_backward`.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb).
    """
    check_choice("mode", mode, MODES)
    dirs = _num_dirs(direction)
    check_choice("input_mode", input_mode, INPUT_MODES)
    check_float_array("x", x, (None, None, None))
    check_nonempty_time("x", x)
    B, _, D = x.shape
    num_layers, H = _check_params(params, mode, D, direction, input_mode)
    check_same_dtype(x=x, **{f"params[{i}][{k!r}]": a for i, p in enumerate(params) for k, a in p.items()})
    states = (num_layers * dirs, B, H)
    h0 = np.zeros(states, dtype=x.dtype) if h0 is None else check_float_array("h0", h0, states)
    check_dtype("h0", h0, x.dtype)
    if mode == "lstm":
        c0 = np.zeros(states, dtype=x.dtype) if c0 is None else check_float_array("c0", c0, states)
        check_dtype("c0", c0, x.dtype)
    elif c0 is not None:
        raise ValueError(f"c0: expected None for mode={mode!r} (only LSTM has a cell state), got {type(c0).__name__}")
    dropout = check_positive_float("dropout", dropout, allow_zero=True)
    if dropout >= 1.0:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
    if not isinstance(training, bool):
        raise TypeError(f"training: expected a bool, got {type(training).__name__}")
    use_dropout = training and dropout > 0.0 and num_layers > 1
    if use_dropout:
        if rng is None:
            raise TypeError("rng: expected a numpy.random.Generator or an int seed for dropout > 0, got None")
        gen = as_generator(rng)

    h_n, c_n = np.empty_like(h0), (np.empty_like(c0) if mode == "lstm" else None)
    layer_input, layers = x, []
    for layer in range(num_layers):
        mask = None
        if layer > 0 and use_dropout:
            keep = gen.random(layer_input.shape) >= dropout
            mask = keep.astype(x.dtype) / (1.0 - dropout)
            layer_input = layer_input * mask
        outputs, dir_caches = [], []
        for d in range(dirs):
            k = layer * dirs + d
            hs, h_n[k], c_last, dcache = _direction_forward(
                mode, layer_input, params[k], h0[k], c0[k] if mode == "lstm" else None,
                reverse=(d == 1), skip=(layer == 0 and input_mode == "skip"),
            )
            if mode == "lstm":
                c_n[k] = c_last
            outputs.append(hs)
            dir_caches.append(dcache)
        layers.append({"mask": mask, "dirs": dir_caches})
        layer_input = np.concatenate(outputs, axis=-1)
    cache = {"mode": mode, "dirs": dirs, "params": params, "layers": layers, "shape": (B, x.shape[1], H)}
    return layer_input, h_n, c_n, cache


def cudnn_rnn_backward(dy: np.ndarray, dh_n: np.ndarray | None, dc_n: np.ndarray | None, cache: dict):
    """Backpropagation through time for :func:`cudnn_rnn_forward`.

    Args:
        dy: (B, T, dirs*H) gradient of the loss with respect to ``y``.
        dh_n: (num_layers*dirs, B, H) gradient with respect to ``h_n``, or None (zeros).
        dc_n: LSTM only: gradient with respect to ``c_n``, or None (zeros).
        cache: from the forward pass.

    Returns:
        ``(dx, dh0, dc0, grads)``: dx (B, T, D); dh0 like h0; dc0 like c0 (None unless
        LSTM); grads, a list of dicts with the same keys and shapes as ``params``.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb).
    """
    mode, dirs, params = cache["mode"], cache["dirs"], cache["params"]
    B, T, H = cache["shape"]
    states = (len(params), B, H)
    dtype = params[0][param_names(mode)[0][-1]].dtype
    check_float_array("dy", dy, (B, T, dirs * H))
    dh_n = np.zeros(states, dtype=dtype) if dh_n is None else check_float_array("dh_n", dh_n, states)
    if mode == "lstm":
        dc_n = np.zeros(states, dtype=dtype) if dc_n is None else check_float_array("dc_n", dc_n, states)
    elif dc_n is not None:
        raise ValueError(f"dc_n: expected None for mode={mode!r} (only LSTM has a cell), got {type(dc_n).__name__}")
    dh0 = np.empty(states, dtype=dtype)
    dc0 = np.empty(states, dtype=dtype) if mode == "lstm" else None
    grads = [None] * len(params)
    d_out = dy
    for layer in reversed(range(len(cache["layers"]))):
        layer_cache = cache["layers"][layer]
        d_in = 0.0
        for d in range(dirs):
            k = layer * dirs + d
            dx_d, dh0[k], dc0_k, grads[k] = _direction_backward(
                mode, d_out[..., d * H:(d + 1) * H], dh_n[k], dc_n[k] if mode == "lstm" else None,
                params[k], layer_cache["dirs"][d],
            )
            if mode == "lstm":
                dc0[k] = dc0_k
            d_in = d_in + dx_d
        if layer_cache["mask"] is not None:
            d_in = d_in * layer_cache["mask"]
        d_out = d_in
    return d_out, dh0, dc0, grads
