"""The output layer: an affine map applied at every time step, ``z_t = V h_t + b_y``."""

from __future__ import annotations

import numpy as np

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
    h_rows = _frozen_rows(h)
    z = h_rows @ V.T  # one (T*B, H) product for all steps, not one per step
    z += b_y
    cache = {"h": _from_rows(h_rows, h.shape), "h_rows": h_rows, "V": v.frozen_copy(V)}
    return _from_rows(z, h.shape), cache


def affine_backward(dz, cache):
    """Gradients of the output layer from ``dz = dL/dz`` (h's leading axes, K).

    Returns a dict with ``dh`` (shape of h), ``dV`` (K, H) and ``db_y`` (K,); the
    parameter gradients are summed over every batch entry and time step.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    h, h_rows, V = cache["h"], cache["h_rows"], cache["V"]
    v.check_float_array("dz", dz, h.shape[:-1] + (V.shape[0],))
    v.check_dtype("dz", dz, h.dtype)
    dz_rows = _rows(dz)
    dh = _from_rows(dz_rows @ V, h.shape)
    return {"dh": dh, "dV": dz_rows.T @ h_rows, "db_y": dz_rows.sum(axis=0)}


# A (B, T, n) array is handled as the (T*B, n) matrix whose row t*B + i is step t of
# sequence i: the order rnn_forward stores its states in, so its hs need no copy.


def _rows(a):
    """(B, n) -> itself; (B, T, n) -> (T*B, n), a view when ``a`` is stored time-major."""
    return a if a.ndim == 2 else a.transpose(1, 0, 2).reshape(-1, a.shape[-1])


def _from_rows(rows, shape):
    """Undo ``_rows``: (T*B, n) -> a (B, T, n) view, for ``shape`` = (B, T, ...)."""
    if len(shape) == 2:
        return rows
    B, T = shape[:2]
    return rows.reshape(T, B, -1).transpose(1, 0, 2)


def _frozen_rows(h):
    """``_rows(h)``, read-only and safe from later writes by the caller (copied only if needed)."""
    rows = _rows(h)
    if not np.may_share_memory(rows, h):  # the reshape copied: nobody else holds rows
        rows.setflags(write=False)
        return rows
    return v.frozen_copy(rows)  # no copy for a view of rnn_forward's frozen states
