"""The output layer: an affine map applied at every time step, ``z_t = V h_t + b_y``."""

from __future__ import annotations

from ._validate import check_affine_args, check_grad


def affine_forward(h, V, b_y):
    """Scores of every step, z_t = V h_t + b_y.

    h: (B, T, H) states (or (B, H) for one step); V: (K, H); b_y: (K,). Returns z,
    h's shape with K last, and a cache for ``affine_backward`` that holds h and V
    themselves: do not change them in place before the backward pass.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    check_affine_args(h, V, b_y)
    z = _rows(h) @ V.T + b_y  # z_t = V h_t + b_y, one product for every step
    return _unrows(z, h), {"h": h, "V": V}


def affine_backward(dz, cache):
    """Gradients of the output layer from dz = dL/dz (h's leading axes, K).

    Returns a dict of dh (h's shape), dV (K, H) and db_y (K,), the last two summed
    over every sequence and step.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    h, V = cache["h"], cache["V"]
    check_grad("dz", dz, h.shape[:-1] + V.shape[:1], h.dtype)
    dz_rows = _rows(dz)
    return {"dh": _unrows(dz_rows @ V, h),  # V^T dz_t
            "dV": dz_rows.T @ _rows(h),  # sum_t dz_t h_t^T
            "db_y": dz_rows.sum(axis=0)}  # sum_t dz_t


# A (B, T, n) array as the (T*B, n) matrix whose row t*B + i is step t of sequence i: one
# product covers every step (time-major, as rnn_forward stores its states: no copy).


def _rows(a):
    """(B, n) -> a; (B, T, n) -> (T*B, n)."""
    return a if a.ndim == 2 else a.swapaxes(0, 1).reshape(-1, a.shape[-1])


def _unrows(rows, like):
    """Undo ``_rows``: (T*B, n) -> (B, T, n) for ``like`` (B, T, .)."""
    if like.ndim == 2:
        return rows
    B, T = like.shape[:2]
    return rows.reshape(T, B, -1).swapaxes(0, 1)
