"""Gated cells at work (Chapter 7): a classifier over any cuDNN cell, the gradient that reaches
every earlier state, and a task whose answer lies at the start of a long sequence.

numpy only: the cells are those of :mod:`rnnlib.cudnn` (Chapter 5); this module runs one of
them over a sequence and reads its last state, as ``RNNClassifier`` does with the Elman RNN.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import (
    as_generator,
    check_choice,
    check_float_array,
    check_ids,
    check_inputs,
    check_nonempty_time,
    check_positive_int,
)
from .cudnn.cells import CELLS
from .cudnn.params import MODES, init_cudnn_params, param_names
from .cudnn.stack import cudnn_rnn_backward, cudnn_rnn_forward
from .layers import affine_backward, affine_forward
from .loss import sequence_cross_entropy, softmax

READOUT = ("V", "b_y")


class CellClassifier:
    """Many-to-one with any of cuDNN's cells: read a sequence, classify it from the last state::

        h_t, c_t = cell(x_t, h_{t-1}, c_{t-1}),  h_0 = c_0 = 0     (c only for the LSTM)
        z = V h_T + b_y,  p = softmax(z)

    ``mode`` is 'rnn_tanh', 'rnn_relu', 'gru' (reset-after) or 'lstm'. ``params`` holds the
    cell's parameters under the keys of :func:`rnnlib.cudnn.params.param_names` (``W_f``, ``R_f``,
    ``bW_f``, ``bR_f``, ...), drawn as :func:`rnnlib.cudnn.params.init_cudnn_params` draws them, and the
    readout ``V`` (C, H), ``b_y`` (C,) from the same range. ``forget_bias`` (LSTM only) sets
    ``bW_f`` to that value and ``bR_f`` to 0, so that every forget gate starts at
    sigmoid(forget_bias + W_f x_t + R_f h_{t-1}); None keeps the random draw. Inputs x are
    (B, T) integer ids in [0, D) (one-hot inputs) or (B, T, D) floats.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """

    def __init__(self, mode, input_size, hidden_size, num_classes, *, rng, forget_bias=None,
                 dtype=np.float64):
        check_choice("mode", mode, MODES)
        C = check_positive_int("num_classes", num_classes)
        if forget_bias is not None:
            if mode != "lstm":
                raise ValueError(f"forget_bias: expected None for mode={mode!r} (only the LSTM has a "
                                 f"forget gate), got {forget_bias!r}")
            if not isinstance(forget_bias, numbers.Real) or not np.isfinite(forget_bias):
                raise TypeError(f"forget_bias: expected None or a finite number, got {forget_bias!r}")
        gen = as_generator(rng)
        cell = init_cudnn_params(mode, input_size, hidden_size, rng=gen, dtype=dtype)[0]
        H = cell[param_names(mode)[0][-1]].shape[0]  # the last recurrent matrix, (H, H)
        bound = 1.0 / np.sqrt(H)
        self.params = {**cell,
                       "V": gen.uniform(-bound, bound, size=(C, H)).astype(dtype),
                       "b_y": gen.uniform(-bound, bound, size=C).astype(dtype)}
        if forget_bias is not None:
            self.params["bW_f"][:] = forget_bias
            self.params["bR_f"][:] = 0.0
        self.mode, self.input_size, self.hidden_size, self.num_classes = mode, input_size, H, C

    def cell_params(self):
        """The cell's parameters alone (the arrays themselves), a dict for cudnn_rnn_forward."""
        return {k: a for k, a in self.params.items() if k not in READOUT}

    def forward(self, x):
        """Class scores of every sequence.

        x: (B, T) ids or (B, T, D) floats. Returns ``logits`` (B, C) and a cache for
        ``backward`` that holds references to x's one-hot codes and to the parameters.

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        xs = self._inputs(x)
        cell = [self.cell_params()]
        _, h_n, _, rnn_cache = cudnn_rnn_forward(xs, None, None, cell, self.mode)
        h_last = h_n[0]  # h_T (B, H)
        p = self.params
        logits, out_cache = affine_forward(h_last, p["V"], p["b_y"])  # V h_T + b_y
        return logits, {"rnn": rnn_cache, "out": out_cache, "B": xs.shape[0]}

    def backward(self, dlogits, cache):
        """Gradients under the keys of ``params`` from ``dlogits`` (B, C): the gradient
        enters at h_T and flows back through every step (cuDNN's BPTT, Chapter 5).

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        check_float_array("dlogits", dlogits, (cache["B"], self.num_classes))
        g_out = affine_backward(dlogits, cache["out"])
        B, T, H = cache["rnn"]["shape"]
        dy = np.zeros((B, T, H), dtype=dlogits.dtype)  # no loss on h_1 .. h_{T-1}
        _, _, _, g_cell = cudnn_rnn_backward(dy, g_out["dh"][None], None, cache["rnn"])
        return {**g_cell[0], "V": g_out["dV"], "b_y": g_out["db_y"]}

    def loss(self, x, y, reduction="mean"):
        """Cross-entropy of the labels y (B,) in [0, C); returns ``(loss, grads)``.

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        logits, cache = self.forward(x)
        check_ids("y", y, (logits.shape[0],), self.num_classes)
        loss, dlogits = sequence_cross_entropy(logits[:, None], y[:, None], reduction=reduction)
        return loss, self.backward(dlogits[:, 0], cache)

    def predict(self, x):
        """Class probabilities (B, C) of every sequence.

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        return softmax(self.forward(x)[0])

    def accuracy(self, x, y):
        """The fraction of sequences whose most probable class is y (B,).

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        probs = self.predict(x)
        check_ids("y", y, (probs.shape[0],), self.num_classes)
        return float(np.mean(probs.argmax(axis=1) == y))

    def state_gradients(self, x, y):
        """G (B, T+1, H): G[:, t] is dL/dh_t for t = 0..T, L the summed cross-entropy of y.

        The loss reads only h_T, so G[:, T] = V^T dL/dz and each earlier G[:, t-1] is what
        step t's backward pass sends to h_{t-1}: the same quantity as Chapter 3's
        ``state_gradients`` of E_T, for any cell.

        Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
        """
        logits, cache = self.forward(x)
        check_ids("y", y, (logits.shape[0],), self.num_classes)
        _, dlogits = sequence_cross_entropy(logits[:, None], y[:, None], reduction="sum")
        dh = affine_backward(dlogits[:, 0], cache["out"])["dh"]  # dL/dh_T = V^T dL/dz
        return backward_states(dh, cache["rnn"])

    def _inputs(self, x):
        """(B, T, D) floats: x itself, or the one-hot codes of ids."""
        is_ids = check_inputs("x", x, (None, None), self.input_size)
        check_nonempty_time("x", x)
        if not is_ids:
            return x
        return np.eye(self.input_size, dtype=self.params["V"].dtype)[x]  # column x_t of W


def backward_states(dh_T, rnn_cache):
    """dL/dh_t (B, T+1, H) for t = 0..T when the loss reads only h_T, dh_T (B, H).

    Walks cuDNN's step_backward from T down to 1 (one layer, one direction), keeping
    what each step sends to h_{t-1}; for the LSTM that includes the path through c.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    step_backward = CELLS[rnn_cache["mode"]][1]
    p = rnn_cache["params"][0]
    steps = rnn_cache["layers"][0]["dirs"][0]["steps"]
    scratch = {k: np.zeros_like(a) for k, a in p.items()}  # parameter gradients: unused
    dh, dc = dh_T, (np.zeros_like(dh_T) if rnn_cache["mode"] == "lstm" else None)
    G = [dh]
    for step in reversed(steps):  # t = T, ..., 1
        _, dh, dc = step_backward(dh, dc, step, p, scratch)  # dh: dL/dh_{t-1}
        G.append(dh)
    return np.stack(G[::-1], axis=1)


# ---- the task: keep the marked symbol ----------------------------------------------------


def marked_symbol_task(n, length, rng, *, num_classes=4, num_symbols=8):
    """n sequences of ``length`` steps; the label is the symbol at the one marked step.

    Every step carries a symbol, uniform over [0, num_symbols), one-hot in
    x[..., :num_symbols], and a marker bit x[..., num_symbols], set at exactly one step,
    whose symbol is drawn from [0, num_classes) and is the label. The marked step lies
    ``d`` steps from the end (d = 1: the last step), d uniform over [1, length]. Later
    steps carry the label's symbols too, so a model must keep what it read at the marker
    and ignore what follows.
    Returns (x (n, length, num_symbols + 1) float64, y (n,) ints, d (n,) ints).

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    n = check_positive_int("n", n)
    T = check_positive_int("length", length)
    C = check_positive_int("num_classes", num_classes)
    K = check_positive_int("num_symbols", num_symbols)
    if C > K:
        raise ValueError(f"num_classes: expected at most num_symbols = {K}, got {C}")
    gen = as_generator(rng)
    symbols = gen.integers(0, K, size=(n, T))
    d = gen.integers(1, T + 1, size=n)  # distance of the marked step from the end
    y = gen.integers(0, C, size=n)
    rows = np.arange(n)
    symbols[rows, T - d] = y
    x = np.zeros((n, T, K + 1))
    x[rows[:, None], np.arange(T), symbols] = 1.0  # one-hot symbol
    x[rows, T - d, K] = 1.0  # the marker
    return x, y, d
