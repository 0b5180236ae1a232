"""The output layer: an affine map applied at every time step, ``z_t = V h_t + b_y``."""

from __future__ import annotations

from . import _validate as v


def affine_forward(h, V, b_y):
    """Scores of every step: ``z = h @ V.T + b_y``.

    h: (B, T, H) hidden states (or (B, H) for one step); V: (K, H); b_y: (K,).
    Returns ``z`` with h's leading axes and K last, and a cache for ``affine_backward``.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    v.check_float_array("V", V, (None, None))
    K, H = V.shape
    v.check_float_array("b_y", b_y, (K,))
    v.check_float_any_rank("h", h, (3, 2), last=H)
    v.check_nonempty_batch("h", h)
    v.check_same_dtype(h=h, V=V, b_y=b_y)
    z = (h.reshape(-1, H) @ V.T).reshape(h.shape[:-1] + (K,))  # one (B*T, H) product, not B
    z += b_y
    return z, {"h": v.frozen_copy(h), "V": v.frozen_copy(V)}


def affine_backward(dz, cache):
    """Gradients of the output layer from ``dz = dL/dz`` (h's leading axes, K).

    Returns a dict with ``dh`` (shape of h), ``dV`` (K, H) and ``db_y`` (K,); the
    parameter gradients are summed over every batch entry and time step.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    h, V = cache["h"], cache["V"]
    v.check_float_array("dz", dz, h.shape[:-1] + (V.shape[0],))
    v.check_dtype("dz", dz, h.dtype)
    dz_flat = dz.reshape(-1, V.shape[0])
    h_flat = h.reshape(-1, V.shape[1])
    dh = (dz_flat @ V).reshape(h.shape)
    return {"dh": dh, "dV": dz_flat.T @ h_flat, "db_y": dz_flat.sum(axis=0)}
