"""One time step of each cuDNN cell, forward and backward: Chapter 5's equations.

Every cell has the same two signatures, so that the table ``CELLS`` picks a pair by mode:
``step_forward(xw, h_prev, c_prev, p) -> (h, c, cache)``, where ``xw[g]`` (B, H) is gate g's
input side ``W_g x_t + bW_g`` (computed for all steps beforehand), ``c`` is None except for
the LSTM and ``p`` holds one pseudo-layer's parameters; and ``step_backward(dh, dc, cache, p,
grads) -> (da, dh_prev, dc_prev)``, where ``da[g]`` is dL/d(gate g's pre-activation), and so
the gradient of its input side, and the gradients of ``R_g`` and ``bR_g`` are added into ``grads``.
"""

from functools import partial

import numpy as np


def sigmoid(a):
    """The logistic function 1 / (1 + exp(-a)), elementwise."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow


def elman_step_forward(xw, h_prev, c_prev, p, relu=False):
    """rnn_tanh (or, with relu=True, rnn_relu): h_t = act(W x_t + bW + R h_{t-1} + bR).

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    a = xw[""] + (h_prev @ p["R"].T + p["bR"])  # one gate, named ""
    h = np.maximum(a, 0.0) if relu else np.tanh(a)  # eq-cudnn-relu, eq-cudnn-tanh
    return h, None, (h_prev, a, h)


def elman_step_backward(dh, dc, cache, p, grads, relu=False):
    """Backward of :func:`elman_step_forward`.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    h_prev, a, h = cache
    da = dh * (a > 0) if relu else dh * (1.0 - h * h)  # eq-cudnn-delta-rnn
    grads["R"] += da.T @ h_prev  # eq-cudnn-param-grads
    grads["bR"] += da.sum(axis=0)
    return {"": da}, da @ p["R"], None  # eq-cudnn-state-grads


def lstm_step_forward(xw, h_prev, c_prev, p):
    """One LSTM step, eq-cudnn-lstm: input side xw[g] + (recurrent side) of each gate.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    i = sigmoid(xw["i"] + (h_prev @ p["R_i"].T + p["bR_i"]))  # input gate
    f = sigmoid(xw["f"] + (h_prev @ p["R_f"].T + p["bR_f"]))  # forget gate
    g = np.tanh(xw["g"] + (h_prev @ p["R_g"].T + p["bR_g"]))  # new memory (candidate)
    o = sigmoid(xw["o"] + (h_prev @ p["R_o"].T + p["bR_o"]))  # output gate
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (h_prev, c_prev, i, f, g, o, tanh_c)


def lstm_step_backward(dh, dc, cache, p, grads):
    """Backward of :func:`lstm_step_forward`, eq-cudnn-delta-lstm.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # h_t = o_t tanh(c_t); dc from step t+1
    da = {
        "i": dc * g * i * (1.0 - i),
        "f": dc * c_prev * f * (1.0 - f),
        "g": dc * i * (1.0 - g * g),
        "o": dh * tanh_c * o * (1.0 - o),
    }
    for k, d in da.items():  # the recurrent side R_k h_{t-1} + bR_k of each gate
        grads[f"R_{k}"] += d.T @ h_prev  # eq-cudnn-param-grads
        grads[f"bR_{k}"] += d.sum(axis=0)
    dh_prev = sum(d @ p[f"R_{k}"] for k, d in da.items())  # eq-cudnn-state-grads
    return da, dh_prev, dc * f


def gru_step_forward(xw, h_prev, c_prev, p):
    """One GRU step, eq-cudnn-gru: the reset gate scales q = R_n h_{t-1} + bR_n.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    r = sigmoid(xw["r"] + (h_prev @ p["R_r"].T + p["bR_r"]))  # reset gate
    z = sigmoid(xw["z"] + (h_prev @ p["R_z"].T + p["bR_z"]))  # update gate
    q = h_prev @ p["R_n"].T + p["bR_n"]  # the recurrent side of n, which r scales
    n = np.tanh(xw["n"] + r * q)  # new memory (candidate)
    h = (1.0 - z) * n + z * h_prev
    return h, None, (h_prev, r, z, n, q)


def gru_step_backward(dh, dc, cache, p, grads):
    """Backward of :func:`gru_step_forward`, eq-cudnn-delta-gru.

    Derived in: Chapter 5, cuDNN (book/05_cudnn.ipynb)
    """
    h_prev, r, z, n, q = cache
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da = {
        "r": da_n * q * r * (1.0 - r),
        "z": dh * (h_prev - n) * z * (1.0 - z),
        "n": da_n,
    }
    dq = {"r": da["r"], "z": da["z"], "n": da_n * r}  # r scales n's recurrent side q
    for k, d in dq.items():  # the recurrent side R_k h_{t-1} + bR_k of each gate
        grads[f"R_{k}"] += d.T @ h_prev  # eq-cudnn-param-grads
        grads[f"bR_{k}"] += d.sum(axis=0)
    # eq-cudnn-state-grads: z_t dh_t (the direct path), plus R_k^T dq_k of each gate
    dh_prev = sum((d @ p[f"R_{k}"] for k, d in dq.items()), dh * z)
    return da, dh_prev, None


#: The cell of each mode, the (step_forward, step_backward) pair that stack.py runs.
CELLS = {
    "rnn_tanh": (elman_step_forward, elman_step_backward),
    "rnn_relu": (partial(elman_step_forward, relu=True), partial(elman_step_backward, relu=True)),
    "lstm": (lstm_step_forward, lstm_step_backward),
    "gru": (gru_step_forward, gru_step_backward),
}
