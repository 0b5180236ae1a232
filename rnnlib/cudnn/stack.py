"""A cuDNN RNN: one cell run over a sequence, in one or two directions, layers stacked."""

from __future__ import annotations

import numpy as np

from .._validate import (
    as_generator,
    check_choice,
    check_dtype,
    check_float_array,
    check_nonempty_time,
    check_positive_float,
    check_same_dtype,
)
from .cells import CELLS
from .params import GATES, INPUT_MODES, MODES, check_params, key, num_dirs


def pseudo_layer_forward(mode, x, p, h0, c0, *, reverse=False, skip=False):
    """Run one cell over x (B, T, D_in): one layer in one direction, cuDNN's pseudo-layer.

    h0, c0 (B, H): initial states (c0 None except for the LSTM). ``reverse`` reads the
    sequence from t = T-1 down to 0; ``skip`` adds x itself in place of W_g x_t.
    Returns (hs, h, c, cache): hs (B, T, H) in the original time order; final states.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    step_forward = CELLS[mode][0]
    xw = {}  # the input side W_g x_t + bW_g of each gate g, for all steps at once
    for g in GATES[mode]:
        xw[g] = (x if skip else x @ p[key("W", g)].T) + p[key("bW", g)]
    B, T, _ = x.shape
    hs = np.empty((B, T, h0.shape[-1]), dtype=h0.dtype)
    h, c, steps = h0, c0, []
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        h, c, step = step_forward({g: a[:, t] for g, a in xw.items()}, h, c, p)
        hs[:, t] = h
        steps.append(step)
    cache = {"mode": mode, "x": x, "steps": steps, "order": list(order), "skip": skip}
    return hs, h, c, cache


def pseudo_layer_backward(dhs, dh_n, dc_n, p, cache):
    """Backward of :func:`pseudo_layer_forward`: dhs (B, T, H), dh_n and dc_n (B, H) (dc_n
    None except for the LSTM). Returns (dx, dh0, dc0, grads), grads keyed like p.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    mode, x = cache["mode"], cache["x"]
    step_backward = CELLS[mode][1]
    grads = {name: np.zeros_like(a) for name, a in p.items()}
    da = {g: np.zeros_like(dhs) for g in GATES[mode]}  # da[g][:, t]: gate g at step t
    dh, dc = dh_n, dc_n
    for t, step in zip(reversed(cache["order"]), reversed(cache["steps"]), strict=True):
        da_t, dh, dc = step_backward(dhs[:, t] + dh, dc, step, p, grads)
        for g, d in da_t.items():
            da[g][:, t] = d
    # the input side of every gate, for all steps at once (eq-cudnn-param-grads, eq-cudnn-state-grads)
    dx = np.zeros_like(x)
    for g, d in da.items():
        grads[key("bW", g)] += d.sum(axis=(0, 1))
        if cache["skip"]:
            dx += d
        else:
            grads[key("W", g)] += np.einsum("bth,btd->hd", d, x)
            dx += d @ p[key("W", g)]
    return dx, dh, dc, grads


def cudnn_rnn_forward(x, h0, c0, params, mode, *, direction="unidirectional", input_mode="linear",
                      dropout=0.0, training=False, rng=None):
    """Forward pass of a (stacked, optionally bidirectional) cuDNN RNN.

    x (B, T, D); h0 (L*dirs, B, H) or None (zeros); c0 like h0 for the LSTM (None: zeros);
    params, one dict per pseudo-layer (L = len(params) // dirs); mode, direction, input_mode
    ('skip': no input matrices on layer 0, D == H) as in :mod:`rnnlib.cudnn`; dropout p in
    [0, 1) on the input of layers 1..L-1 when ``training``, masks drawn from rng.
    Returns (y (B, T, dirs*H), h_n like h0, c_n (LSTM) or None, cache).

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    B, T, H, dirs, gen = check_forward_args(x, h0, c0, params, mode, direction, input_mode, dropout, training, rng)
    zeros = np.zeros((len(params), B, H), dtype=x.dtype)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None and mode == "lstm" else c0
    h_n, c_n = np.empty_like(zeros), (np.empty_like(zeros) if mode == "lstm" else None)
    layer_input, layers = x, []
    for layer in range(len(params) // dirs):
        mask = None
        if layer > 0 and gen is not None:  # dropout between layers
            mask = (gen.random(layer_input.shape) >= dropout).astype(x.dtype) / (1.0 - dropout)
            layer_input = layer_input * mask
        outputs, caches = [], []
        for d in range(dirs):  # d = 1 reads the sequence backwards
            k = layer * dirs + d
            hs, h_n[k], c_k, cache = pseudo_layer_forward(
                mode, layer_input, params[k], h0[k], None if c0 is None else c0[k],
                reverse=d == 1, skip=layer == 0 and input_mode == "skip")
            if c_n is not None:
                c_n[k] = c_k
            outputs.append(hs)
            caches.append(cache)
        layers.append({"mask": mask, "dirs": caches})
        layer_input = np.concatenate(outputs, axis=-1)  # [forward, backward]
    cache = {"mode": mode, "dirs": dirs, "params": params, "layers": layers, "shape": (B, T, H), "dtype": x.dtype}
    return layer_input, h_n, c_n, cache


def cudnn_rnn_backward(dy, dh_n, dc_n, cache):
    """BPTT for :func:`cudnn_rnn_forward`: dy (B, T, dirs*H); dh_n, dc_n (LSTM) like h_n, or None.

    Returns (dx (B, T, D), dh0 like h0, dc0 like c0 or None, grads: dicts shaped like ``params``).

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    dh_n, dc_n = check_backward_args(dy, dh_n, dc_n, cache)
    mode, dirs, params, H = cache["mode"], cache["dirs"], cache["params"], cache["shape"][2]
    dh0 = np.empty(dh_n.shape, dtype=cache["dtype"])
    dc0 = np.empty(dh_n.shape, dtype=cache["dtype"]) if mode == "lstm" else None
    grads = [None] * len(params)
    d_out = dy
    for layer in reversed(range(len(cache["layers"]))):
        layer_cache = cache["layers"][layer]
        d_in = 0.0  # the two directions read the same input: their gradients add
        for d in range(dirs):
            k = layer * dirs + d
            dx_d, dh0[k], dc0_k, grads[k] = pseudo_layer_backward(
                d_out[..., d * H:(d + 1) * H], dh_n[k], None if dc_n is None else dc_n[k],
                params[k], layer_cache["dirs"][d])
            if dc0 is not None:
                dc0[k] = dc0_k
            d_in = d_in + dx_d
        if layer_cache["mask"] is not None:
            d_in = d_in * layer_cache["mask"]
        d_out = d_in
    return d_out, dh0, dc0, grads


# ---- argument checks of the two public functions ------------------------------------------------


def check_forward_args(x, h0, c0, params, mode, direction, input_mode, dropout, training, rng):
    """Check cudnn_rnn_forward's arguments; return (B, T, H, dirs, gen), gen the dropout
    Generator, or None when no dropout is applied."""
    check_choice("mode", mode, MODES)
    dirs = num_dirs(direction)
    check_choice("input_mode", input_mode, INPUT_MODES)
    check_float_array("x", x, (None, None, None))
    check_nonempty_time("x", x)
    B, T, D = x.shape
    num_layers, H = check_params(params, mode, D, direction, input_mode)
    check_same_dtype(x=x, **{f"params[{i}][{k!r}]": a for i, p in enumerate(params) for k, a in p.items()})
    if mode != "lstm" and c0 is not None:
        raise ValueError(f"c0: expected None for mode={mode!r} (only LSTM has a cell state), got {type(c0).__name__}")
    for name, state in (("h0", h0), ("c0", c0)):
        if state is not None:
            check_float_array(name, state, (num_layers * dirs, B, H))
            check_dtype(name, state, x.dtype)
    dropout = check_positive_float("dropout", dropout, allow_zero=True)
    if dropout >= 1.0:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
    if not isinstance(training, bool):
        raise TypeError(f"training: expected a bool, got {type(training).__name__}")
    if not (training and dropout > 0.0 and num_layers > 1):
        return B, T, H, dirs, None
    if rng is None:
        raise TypeError("rng: expected a numpy.random.Generator or an int seed for dropout > 0, got None")
    return B, T, H, dirs, as_generator(rng)


def check_backward_args(dy, dh_n, dc_n, cache):
    """Check cudnn_rnn_backward's gradients; return dh_n and dc_n with None made zeros."""
    mode, params, (B, T, H) = cache["mode"], cache["params"], cache["shape"]
    states = (len(params), B, H)
    check_float_array("dy", dy, (B, T, cache["dirs"] * H))
    if dh_n is not None:
        check_float_array("dh_n", dh_n, states)
    if mode != "lstm" and dc_n is not None:
        raise ValueError(f"dc_n: expected None for mode={mode!r} (only LSTM has a cell), got {type(dc_n).__name__}")
    if mode == "lstm" and dc_n is not None:
        check_float_array("dc_n", dc_n, states)
    zeros = np.zeros(states, dtype=cache["dtype"])
    return (zeros if dh_n is None else dh_n), (zeros if dc_n is None and mode == "lstm" else dc_n)
