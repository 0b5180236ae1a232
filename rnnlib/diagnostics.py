"""How gradients travel back through time: vanishing and exploding."""

from __future__ import annotations

import numpy as np

from . import _validate as v


def state_gradients(dhs, cache):
    """dL/dh_t for every hidden state, h_0 included.

    dhs: (B, T, H), dL/dh_t from the layers above (as for ``rnn_backward``);
    cache: from ``rnn_forward``. Returns ``G`` (B, T + 1, H): ``G[:, t]`` is
    the total dL/dh_t, through every later step, for t = 0..T. ``G[:, 0]``
    is dL/dh0 (``rnn_backward``'s ``dh0``); ``G[:, t]`` for t >= 1 belongs
    to the state after step t, ``hs[:, t - 1]``. It is the backward sweep
    ``G_t = dhs_t + U^T ((1 - h_{t+1}^2) * G_{t+1})``, kept at every step
    (h_0 feeds no output, so G_0 has no direct term).

    For the loss of the last output alone, E_T, give ``dhs`` zeros except
    ``dhs[:, -1] = dE_T/dh_T``: then ``np.linalg.norm(G, axis=-1)[:, t]``
    is ||dE_T/dh_t||, a function of the distance T - t.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    if not isinstance(cache, dict) or not {"hs", "U"} <= set(cache):
        raise TypeError("cache: expected the cache dict returned by "
                        f"rnn_forward, got {type(cache).__name__}")
    hs, U = cache["hs"], cache["U"]
    v.check_float_array("dhs", dhs, hs.shape)
    v.check_dtype("dhs", dhs, hs.dtype)
    B, T, H = hs.shape
    G = np.empty((B, T + 1, H), dtype=hs.dtype)
    g = np.zeros((B, H), dtype=hs.dtype)  # dL/dh through the next step
    for t in reversed(range(T)):
        g = dhs[:, t] + g  # total dL/dh for the state after step t + 1
        G[:, t + 1] = g
        g = (g * (1 - hs[:, t] ** 2)) @ U  # back through tanh and U
    G[:, 0] = g
    return G
