"""Optimizers over parameter dicts, and gradient clipping by global norm."""

from __future__ import annotations

import numpy as np

from ._validate import check_array_dict, check_positive_float


class SGD:
    """Plain gradient descent: ``p -= lr * g`` for every parameter, in place.

    Derived in: Chapter 2, Loss (book/02_loss.ipynb), which also shows how the choice
    between a summed and an averaged loss scales its learning rate.
    """

    def __init__(self, lr):
        self.lr = check_positive_float("lr", lr)

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (same keys, shapes, dtypes)."""
        check_array_dict("params", params, allow_nonfinite=True)
        check_array_dict("grads", grads, like=params, allow_nonfinite=True)
        for name, p in params.items():
            p -= self.lr * grads[name]


class Adagrad:
    """Adagrad, entry by entry: ``m += g * g; p -= lr * g / (sqrt(m) + eps)``.

    ``m`` starts at zero for each parameter name, on the first ``step``. min-char-rnn,
    which trains with Adagrad, puts its eps (1e-8) inside the root, ``g / sqrt(m + eps)``;
    the two updates differ by less than 1% wherever m is at least 100 eps.

    Derived in: Chapter 2, Loss (book/02_loss.ipynb), which also shows why a constant
    factor on every gradient (a sum instead of a mean) barely changes its updates.
    """

    def __init__(self, lr, eps=1e-8):
        self.lr = check_positive_float("lr", lr)
        self.eps = check_positive_float("eps", eps)
        self.memory = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (same keys, shapes, dtypes)."""
        check_array_dict("params", params, allow_nonfinite=True)
        check_array_dict("grads", grads, like=params, allow_nonfinite=True)
        for name, p in params.items():
            g = grads[name]
            m = self.memory.setdefault(name, np.zeros_like(p))
            m += g * g
            p -= self.lr * g / (np.sqrt(m) + self.eps)


def global_norm(grads):
    """``sqrt(sum of g**2)`` over every array of the dict ``grads``, accumulated in float64.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    check_array_dict("grads", grads, allow_nonfinite=True)
    return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by ``min(1, max_norm / norm)``, norm = sqrt(sum of all g**2).

    grads: dict of arrays. Returns ``(clipped, norm)``: new arrays under the same
    keys (the inputs are untouched) and the norm before clipping, a float.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb), equation
    eq-bptt-clip.
    """
    max_norm = check_positive_float("max_norm", max_norm)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * g.dtype.type(scale) for name, g in grads.items()}, norm

