"""How gradients travel back through time: vanishing and exploding."""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .rnn import _sweep_deltas


def state_gradients(dhs, cache):
    """dL/dh_t for every hidden state, h_0 included.

    dhs: (B, T, H), dL/dh_t from the layers above (as for ``rnn_backward``);
    cache: from ``rnn_forward``. Returns ``G`` (B, T + 1, H): ``G[:, t]`` is
    the total dL/dh_t, through every later step, for t = 0..T. ``G[:, 0]``
    is dL/dh0 (``rnn_backward``'s ``dh0``); ``G[:, t]`` for t >= 1 belongs
    to the state after step t, ``hs[:, t - 1]``. h_t reaches the loss through
    its own output and through s_{t+1}, so ``G_t = dhs_t + U^T ds_{t+1}`` with
    the deltas ds of the full sweep (``ds_{T+1} = 0``; h_0 has no output).

    For the loss of the last output alone, E_T, give ``dhs`` zeros except
    ``dhs[:, -1] = dE_T/dh_T``: then ``np.linalg.norm(G, axis=-1)[:, t]``
    is ||dE_T/dh_t||, a function of the distance T - t.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    if not isinstance(cache, dict) or not {"states", "hs", "U"} <= set(cache):
        raise TypeError("cache: expected the cache dict returned by "
                        f"rnn_forward, got {type(cache).__name__}")
    hs, U = cache["hs"], cache["U"]
    v.check_float_array("dhs", dhs, hs.shape)
    v.check_dtype("dhs", dhs, hs.dtype)
    dhs = dhs.transpose(1, 0, 2)  # time-major, like the sweep
    ds = _sweep_deltas(dhs, cache["states"][1:], U, None)  # (T, B, H)
    T, B, H = ds.shape
    G = np.zeros((T + 1, B, H), dtype=hs.dtype)  # G[t]: dL/dh_t, t = 0..T
    G[1:] = dhs  # the direct term of each output
    G[:-1] += ds @ U  # U^T ds_{t+1}: through the next step, for t = 0..T-1
    return G.transpose(1, 0, 2)
