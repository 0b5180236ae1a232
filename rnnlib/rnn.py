"""The Elman RNN layer: one step, a whole sequence, and backpropagation through time.

    s_t = W x_t + U h_{t-1} + b,    h_t = tanh(s_t)

W is (H, D), U is (H, H), b is (H,). Batched inputs are (B, T, D) floats, computed
as ``x @ W.T``, or (B, T) integer token ids, where id ``i`` selects column ``W[:, i]``
(the same as multiplying W by a one-hot vector, without building it).

Every backward pass first finds the deltas ``ds[t] = dL/ds_t`` (T, B, H) and then
turns them into parameter gradients with three matrix products
(``_grads_from_deltas``). Full BPTT, the per-output window (``truncate=k``) and the
chunked form (``chunk=c``) differ only in how the deltas are found.

Arguments and results are batch-major, (B, T, ...), as in Keras; inside, the states
and deltas are stored time-major, (T, B, H), as cuDNN stores them, so that the loop
over time reads and writes contiguous (B, H) blocks. ``hs`` is a (B, T, H) view of
that storage; only speed, and the last bits of rounding in sums over steps, depend
on the layout.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v


def _check_params(W, U, b):
    """Validate W (H, D), U (H, H) and b (H,); return (H, D)."""
    v.check_float_array("W", W, (None, None))
    H, D = W.shape
    v.check_float_array("U", U, (H, H))
    v.check_float_array("b", b, (H,))
    return H, D


def rnn_step_forward(x_t, h_prev, W, U, b):
    """One step: ``h_t = tanh(x_t @ W.T + h_prev @ U.T + b)``.

    x_t: (B, D) floats or (B,) integer ids; h_prev: (B, H); W: (H, D); U: (H, H);
    b: (H,). Returns ``h_t`` (B, H) and a cache for ``rnn_step_backward``.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    H, D = _check_params(W, U, b)
    is_ids = v.check_inputs("x_t", x_t, (None,), D)
    v.check_nonempty_batch("x_t", x_t)
    v.check_float_array("h_prev", h_prev, (x_t.shape[0], H))
    v.check_same_dtype(W=W, U=U, b=b, h_prev=h_prev, **({} if is_ids else {"x_t": x_t}))
    x_proj = W.T[x_t] if is_ids else x_t @ W.T
    h_t = np.tanh(x_proj + b + h_prev @ U.T)  # the same order of sums as rnn_forward
    cache = {"x": v.frozen_copy(x_t), "h_prev": v.frozen_copy(h_prev),
             "h": v.frozen_copy(h_t), "W": v.frozen_copy(W), "U": v.frozen_copy(U),
             "is_ids": is_ids}
    return h_t, cache


def rnn_step_backward(dh_t, cache):
    """Gradients of one step from ``dh_t = dL/dh_t`` (B, H).

    Returns a dict with ``dW`` (H, D), ``dU`` (H, H), ``db`` (H,), ``dh_prev`` (B, H)
    and, when the step's input was floats, ``dx`` (B, D).

    One step of the recursion eq-bptt-delta, ``ds_t = dh_t * (1 - h_t^2)`` and
    ``dh_prev = ds_t @ U``, and that step's terms of the parameter gradients. Chapter 3
    derives the recursion and runs it over whole sequences with ``rnn_backward``,
    which does not call this function.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    h = cache["h"]
    v.check_float_array("dh_t", dh_t, h.shape)
    v.check_dtype("dh_t", dh_t, h.dtype)
    ds = dh_t * (1 - h**2)  # tanh'(s) = 1 - tanh(s)^2 = 1 - h^2
    grads = _grads_from_deltas(ds, cache["x"], cache["h_prev"], cache["W"], cache["is_ids"])
    grads["dh_prev"] = ds @ cache["U"]
    return grads


def rnn_forward(x, h0, W, U, b):
    """Run the RNN over a sequence.

    x: (B, T, D) floats or (B, T) integer ids; h0: (B, H), or None for zeros;
    W: (H, D); U: (H, H); b: (H,). Returns ``hs`` (B, T, H), the hidden state after
    every step, and a cache for ``rnn_backward``. ``hs`` is read-only: the cache
    shares it (``hs.copy()`` gives an array to write into).

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    H, D = _check_params(W, U, b)
    is_ids = v.check_inputs("x", x, (None, None), D)
    v.check_nonempty_time("x", x)
    B, T = x.shape[:2]
    floats = {"W": W, "U": U, "b": b}
    if h0 is not None:
        floats["h0"] = v.check_float_array("h0", h0, (B, H))
    if not is_ids:
        floats["x"] = x
    v.check_same_dtype(**floats)

    # states[t] is h_t for t = 0..T, stored time-major (as cuDNN stores them): each
    # step's (B, H) block is contiguous, and h_{t-1} for every t is the view states[:-1].
    states = np.empty((T + 1, B, H), dtype=W.dtype)
    states[0] = 0 if h0 is None else h0
    # Slots 1..T start as the input term W x_t + b of every step (one lookup or product
    # for all steps); step t then overwrites its slot with h_t. The bias is outside U.
    if is_ids:  # the ids are checked above; mode="raise" would write through a buffer
        np.take(W.T, x.T, axis=0, out=states[1:], mode="clip")
    else:
        np.matmul(x.transpose(1, 0, 2), W.T, out=states[1:])
    states[1:] += b
    U_T = np.ascontiguousarray(U.T)  # BLAS is faster with a stored U^T than the view U.T
    for t in range(1, T + 1):
        np.tanh(states[t] + states[t - 1] @ U_T, out=states[t])
    v.freeze(states)  # read-only; its views hs and states[:-1] need no copies
    hs = states[1:].transpose(1, 0, 2)  # (B, T, H), a read-only view
    cache = {"x": v.frozen_copy(x), "states": states, "hs": hs,
             "W": v.frozen_copy(W), "U": v.frozen_copy(U), "is_ids": is_ids}
    return hs, cache


def rnn_backward(dhs, cache, truncate=None, chunk=None):
    """Backpropagation through time over a sequence.

    dhs: (B, T, H), dL/dh_t from the layers above (not through later steps).
    Returns a dict with ``dW``, ``dU``, ``db``, ``dh0`` (B, H) and, when ``x`` was
    floats, ``dx`` (B, T, D).

    - default: full BPTT, one backward sweep, O(T) time, O(T B H) memory;
    - ``truncate=k``: the gradient of output t flows back through s_t, ..., s_{t-k}
      only (and their parameter gradients); it reaches h0 only when t <= k, i.e.
      ``dh0 = U^T dL_t/ds_0`` summed over those outputs. O(T k) double loop;
      ``k >= T - 1`` is full BPTT;
    - ``chunk=c``: steps are cut into chunks [0, c), [c, 2c), ...; h is carried
      forward across a boundary but no gradient flows back across it (stateful
      truncated BPTT, as in min-char-rnn). ``dh0`` comes from the first chunk only;
      ``c >= T`` is full BPTT.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    hs = cache["hs"]
    v.check_float_array("dhs", dhs, hs.shape)
    v.check_dtype("dhs", dhs, hs.dtype)
    if truncate is not None and chunk is not None:
        raise ValueError(f"truncate: expected None when chunk is given, got truncate={truncate!r}")
    # The sweeps run time-major, like the forward pass: dhs[t] and ds[t] are (B, H) blocks.
    dhs, hs = dhs.transpose(1, 0, 2), cache["states"][1:]
    if truncate is not None:
        truncate = v.check_positive_int("truncate", truncate, allow_zero=True)
        ds = _window_deltas(dhs, hs, cache["U"], truncate)
    else:
        chunk = None if chunk is None else v.check_positive_int("chunk", chunk)
        ds = _sweep_deltas(dhs, hs, cache["U"], chunk)
    return _sequence_grads(ds, cache)


# ---------------------------------------------------------------- numerics --


def _sweep_deltas(dhs, hs, U, chunk):
    """Full BPTT in one sweep from t = T-1 down to 0 (gradient cut at chunk starts).

    dhs, hs: (T, B, H), time-major. Returns ds (T, B, H), ds[t] = dL/ds_t:
    ds_t = (dhs_t + U^T ds_{t+1}) * (1 - h_t^2), the source's recursion with U^T (not
    W^T) and the hidden states h (not s).

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T, B, H = hs.shape
    ds = np.square(hs)
    np.subtract(1, ds, out=ds)  # tanh'(s_t) = 1 - h_t^2 at every step; scaled below
    dh_next = np.zeros((B, H), dtype=hs.dtype)  # dL/dh_t through step t+1
    for t in reversed(range(T)):
        if chunk is not None and (t + 1) % chunk == 0:
            dh_next = np.zeros_like(dh_next)  # step t+1 starts a new chunk: stop here
        ds[t] *= dhs[t] + dh_next
        dh_next = ds[t] @ U
    return ds


def _window_deltas(dhs, hs, U, truncate):
    """Per-output truncated BPTT: output t reaches s_t, ..., s_max(0, t-truncate).

    dhs, hs: (T, B, H), time-major; returns ds (T, B, H). A literal double loop,
    O(T * truncate): it redoes for every output the products the full sweep shares,
    which is why the book compares their costs.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T = hs.shape[0]
    dtanh = 1 - hs**2  # tanh'(s_k) for every step, computed once
    ds = np.zeros_like(hs)
    for t in range(T):
        delta = dhs[t] * dtanh[t]  # dL_t/ds_t
        ds[t] += delta
        for k in range(t - 1, max(0, t - truncate) - 1, -1):
            delta = (delta @ U) * dtanh[k]  # dL_t/ds_k
            ds[k] += delta
    return ds


def _sequence_grads(ds, cache):
    """Gradients of a sequence from its time-major deltas ds (T, B, H)."""
    T, B, H = ds.shape
    x, states = cache["x"], cache["states"]
    # Rows n = t * B + i of every (T * B, .) matrix below belong to step t of sequence i.
    x_rows = x.T.reshape(T * B) if cache["is_ids"] else x.transpose(1, 0, 2).reshape(T * B, -1)
    grads = _grads_from_deltas(ds.reshape(T * B, H), x_rows, states[:-1].reshape(T * B, H),
                               cache["W"], cache["is_ids"])
    if "dx" in grads:
        grads["dx"] = grads["dx"].reshape(T, B, -1).transpose(1, 0, 2)
    grads["dh0"] = ds[0] @ cache["U"]
    return grads


def _grads_from_deltas(ds, x, h_prev, W, is_ids):
    """dW, dU, db (and dx for float x) from N deltas ds (N, H), inputs x, states h_prev.

    For ids, dW[:, i] is the sum of the deltas of every step whose input was i, which
    is ``ds.T @ onehot(x)``; ``_sum_by_id`` computes it that way, or with a scatter-add
    when the vocabulary is large.
    """
    dW = _sum_by_id(ds, x, W.shape[1]) if is_ids else ds.T @ x
    grads = {"dW": dW, "dU": ds.T @ h_prev, "db": ds.sum(axis=0)}
    if not is_ids:
        grads["dx"] = ds @ W
    return grads


def _sum_by_id(ds, ids, num_ids):
    """(H, num_ids): column i sums the rows ds[n] (N, H) whose ids[n] (N,) is i.

    Up to 4H ids, it multiplies by the one-hot matrix (N, num_ids): at num_ids <= H
    that costs no more than the ``ds.T @ h_prev`` next to it, and several times less
    than the scatter-add ``np.add.at``, which adds one row at a time. The product's
    cost grows with the vocabulary and the scatter-add's does not, so a larger
    vocabulary scatter-adds into a (num_ids, H) array and returns its transpose.
    """
    if num_ids <= 4 * ds.shape[1]:
        onehot = np.zeros((len(ids), num_ids), dtype=ds.dtype)
        onehot[np.arange(len(ids)), ids] = 1
        return ds.T @ onehot
    sums = np.zeros((num_ids, ds.shape[1]), dtype=ds.dtype)
    np.add.at(sums, ids, ds)  # row ids[n] of sums gets ds[n]
    return sums.T
