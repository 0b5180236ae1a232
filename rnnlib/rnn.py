"""The Elman RNN layer: one step, a whole sequence, and backpropagation through time.

    s_t = W x_t + U h_{t-1} + b,    h_t = tanh(s_t)

W is (H, D), U is (H, H), b is (H,). Inputs are (B, T, D) floats or (B, T) integer
token ids; id i selects column W[:, i], the product of W with a one-hot vector.
Arguments and results are batch-major, (B, T, ...); inside, states and deltas are
time-major, (T, B, H): h[t] is h_t (h[0] is h_0) and ds[t - 1] is dL/ds_t.

Caches hold references to the arguments, as in CS231n: do not change W, U or x in
place between a forward pass and its backward pass. The states are read-only.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_bptt_args, check_grad, check_rnn_args


def input_term(x, W):
    """W x_t for every x_t in x: ids (...) pick columns of W; floats (..., D) multiply.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    return np.take(W.T, x, axis=0) if x.dtype.kind in "iu" else x @ W.T  # W.T[x] for ids


def input_term_backward(ds, x, W):
    """dW = sum_n ds_n x_n^T and dx = W^T ds_n (None for ids); ds (N, H), x (N,) or (N, D).

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    if x.dtype.kind in "iu":
        return sum_by_id(ds, x, W.shape[1]), None  # x_n is one-hot: column x_n gets ds_n
    return ds.T @ x, ds @ W


def rnn_step_forward(x_t, h_prev, W, U, b):
    """One step, h_t = tanh(W x_t + U h_prev + b).

    x_t: (B, D) floats or (B,) ids; h_prev: (B, H). Returns h_t (B, H), read-only,
    and a cache for ``rnn_step_backward`` that holds x_t, h_prev, W and U themselves:
    do not change them in place before the backward pass.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    check_rnn_args(x_t, h_prev, W, U, b, step=True)
    h_t = np.tanh(input_term(x_t, W) + b + h_prev @ U.T)
    h_t.flags.writeable = False  # the cache holds it
    return h_t, {"x": x_t, "h_prev": h_prev, "h": h_t, "W": W, "U": U}


def rnn_step_backward(dh_t, cache):
    """Gradients of one step from dh_t = dL/dh_t (B, H).

    Returns a dict of dW, dU, db, dh_prev (and dx (B, D) for float inputs).

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    h_t, h_prev, U = cache["h"], cache["h_prev"], cache["U"]
    check_grad("dh_t", dh_t, h_t.shape, h_t.dtype)
    ds = dh_t * (1 - h_t**2)  # tanh'(s_t) = 1 - h_t^2
    dW, dx = input_term_backward(ds, cache["x"], cache["W"])
    grads = {"dW": dW, "dU": ds.T @ h_prev, "db": ds.sum(axis=0)}
    if dx is not None:
        grads["dx"] = dx
    grads["dh_prev"] = ds @ U  # U^T ds_t
    return grads


def rnn_forward(x, h0, W, U, b):
    """Run the RNN over a sequence.

    x: (B, T, D) floats or (B, T) ids; h0: (B, H), or None for zeros. Returns hs
    (B, T, H), the state after every step (read-only: the cache shares it), and a
    cache for ``rnn_backward`` that holds x, W and U themselves: do not change them in
    place before the backward pass.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    B, T, H = check_rnn_args(x, h0, W, U, b)
    xw = input_term(x.swapaxes(0, 1), W)  # (T, B, H): W x_t for every step
    h = np.zeros((T + 1, B, H), dtype=W.dtype)  # h[t] is h_t; h[0] is h_0
    if h0 is not None:
        h[0] = h0
    U_T = U.T.copy()  # U^T, stored once: faster to multiply by (performance appendix)
    for t in range(1, T + 1):
        h[t] = np.tanh(xw[t - 1] + b + h[t - 1] @ U_T)  # h_t = tanh(W x_t + b + U h_{t-1})
    h.flags.writeable = False
    hs = h[1:].swapaxes(0, 1)  # (B, T, H), a view of h
    return hs, {"x": x, "h": h, "hs": hs, "W": W, "U": U}


def rnn_backward(dhs, cache, truncate=None, chunk=None, tbptt=None, return_deltas=False):
    """Backpropagation through time from dhs (B, T, H), dL/dh_t from the layers above.

    Default: full BPTT. ``truncate=k``: the gradient of output t flows back through
    s_t, ..., s_{t-k} only. ``chunk=c``: no gradient crosses the starts of the chunks
    [0, c), [c, 2c), ... ``tbptt=(k1, k2)``: TBPTT(k1, k2), every k1 steps a backward
    pass k2 steps deep (``tbptt_deltas``); (1, k + 1) is ``truncate=k`` and (c, c) is
    ``chunk=c``. At most one of the three. Returns a dict of dW, dU, db, dh0 (B, H)
    (and dx (B, T, D) for float inputs); with ``return_deltas=True`` also ds (B, T, H),
    ds[:, t-1] = dL/ds_t, the deltas the gradients are made of.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    truncate, chunk, tbptt = check_bptt_args(dhs, cache, truncate, chunk, tbptt, return_deltas)
    h, U = cache["h"], cache["U"]
    dhs = dhs.swapaxes(0, 1)  # (T, B, H)
    if tbptt is not None:
        ds = tbptt_deltas(dhs, h, U, *tbptt)
    elif truncate is None:
        ds = bptt_deltas(dhs, h, U, chunk)
    else:
        ds = truncated_bptt_deltas(dhs, h, U, truncate)
    grads = grads_from_deltas(ds, cache["x"], h, cache["W"], U)
    if return_deltas:
        grads["ds"] = ds.swapaxes(0, 1)  # (B, T, H), like dhs
    return grads


def bptt_deltas(dhs, h, U, chunk=None):
    """The deltas ds[t-1] = dL/ds_t of full BPTT, by one sweep from t = T down to 1:
    ds_t = (dhs_t + U^T ds_{t+1}) * (1 - h_t^2). With ``chunk=c`` the sweep restarts
    at every chunk's last step, so no gradient crosses a chunk's start.

    dhs: (T, B, H); h: (T+1, B, H), h[0] = h_0. Returns ds (T, B, H).

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T = len(dhs)
    ds = np.empty_like(dhs)
    dh_next = np.zeros_like(dhs[0])  # U^T ds_{t+1}: dL/dh_t through step t+1
    for t in range(T, 0, -1):
        if chunk is not None and t % chunk == 0:
            dh_next = np.zeros_like(dh_next)  # step t+1 starts a new chunk
        ds[t - 1] = (dhs[t - 1] + dh_next) * (1 - h[t] ** 2)
        dh_next = ds[t - 1] @ U
    return ds


def truncated_bptt_deltas(dhs, h, U, k):
    """Per-output truncated BPTT: output t adds dL_t/ds_j to ds for j = t, ..., max(1, t-k)
    only. A literal double loop, O(T k). Arguments and result as for ``bptt_deltas``.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T = len(dhs)
    dtanh = 1 - h**2  # dtanh[t] = tanh'(s_t) = 1 - h_t^2 (dtanh[0] unused)
    ds = np.zeros_like(dhs)
    for t in range(1, T + 1):  # every output t ...
        delta = dhs[t - 1] * dtanh[t]  # dL_t/ds_t
        ds[t - 1] += delta
        for j in range(t - 1, max(1, t - k) - 1, -1):  # ... back to s_max(1, t-k)
            delta = (delta @ U) * dtanh[j]  # dL_t/ds_j = (U^T dL_t/ds_{j+1}) * tanh'(s_j)
            ds[j - 1] += delta
    return ds


def tbptt_deltas(dhs, h, U, k1, k2):
    """TBPTT(k1, k2), Williams and Peng's BPTT(h; h') with h = k2, h' = k1: after
    every k1 steps, one sweep k2 steps back. Output t of block m,
    (m-1) k1 < t <= m k1, reaches s_j for j >= max(1, m k1 - k2 + 1) only.
    k2 >= k1; cost O(T k2 / k1). Arguments and result as for ``bptt_deltas``.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T = len(dhs)
    ds = np.zeros_like(dhs)
    for end in range(k1, T + k1, k1):  # block m ends at m k1 (the last may pass T)
        first = max(1, end - k2 + 1)  # the deepest step this sweep reaches
        dh_next = np.zeros_like(dhs[0])
        for t in range(min(end, T), first - 1, -1):
            in_block = t > end - k1  # only the block's outputs feed in
            dh_t = dh_next + dhs[t - 1] if in_block else dh_next
            delta = dh_t * (1 - h[t] ** 2)
            ds[t - 1] += delta
            dh_next = delta @ U
    return ds


def grads_from_deltas(ds, x, h, W, U):
    """The gradients from the deltas ds (T, B, H): sums over steps and sequences,
    each one product of matrices whose rows are stacked (T*B rows, step-major).

    x: (B, T) ids or (B, T, D) floats; h: (T+1, B, H). Returns a dict of dW, dU,
    db, dh0 (and dx (B, T, D) for floats).

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    T, B, H = ds.shape
    ds_rows = ds.reshape(T * B, H)  # row t*B + i: step t of sequence i
    x_rows = x.swapaxes(0, 1).reshape(T * B, *x.shape[2:])
    dW, dx = input_term_backward(ds_rows, x_rows, W)  # sum_t ds_t x_t^T
    grads = {"dW": dW,
             "dU": ds_rows.T @ h[:-1].reshape(T * B, H),  # sum_t ds_t h_{t-1}^T
             "db": ds_rows.sum(axis=0)}  # sum_t ds_t
    if dx is not None:
        grads["dx"] = dx.reshape(T, B, -1).swapaxes(0, 1)  # W^T ds_t
    grads["dh0"] = ds[0] @ U  # U^T ds_1
    return grads


def state_gradients(dhs, cache):
    """G (B, T+1, H): G[:, t] is the total dL/dh_t for t = 0..T, through every later step.

    dhs and cache are those of ``rnn_backward``. h_t reaches the loss through its
    own output and through s_{t+1}: G_t = dhs_t + U^T ds_{t+1} (h_0 has no output).
    For E_T alone, pass dhs that are zero except at the last step.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    check_bptt_args(dhs, cache)
    dhs = dhs.swapaxes(0, 1)  # (T, B, H)
    ds = bptt_deltas(dhs, cache["h"], cache["U"])
    G = np.zeros_like(cache["h"])  # G[t]: dL/dh_t, t = 0..T
    G[1:] = dhs  # each output's direct term
    G[:-1] += ds @ cache["U"]  # U^T ds_{t+1}: through the next step
    return G.swapaxes(0, 1)


# ---- below the functions the chapters show: a speed-up the performance appendix measures


def sum_by_id(ds, ids, num_ids):
    """(H, num_ids): column i sums the rows ds[n] (N, H) whose id ids[n] is i.

    Up to 4H ids, as ds.T @ onehot(ids); above, a scatter-add, whose cost does not grow
    with the vocabulary.

    Derived in: Appendix, Performance on the CPU (book/appendix_performance.ipynb)
    """
    if num_ids <= 4 * ds.shape[1]:
        onehot = np.zeros((len(ids), num_ids), dtype=ds.dtype)
        onehot[np.arange(len(ids)), ids] = 1
        return ds.T @ onehot
    sums = np.zeros((num_ids, ds.shape[1]), dtype=ds.dtype)
    np.add.at(sums, ids, ds)  # row ids[n] of sums gets ds[n]
    return sums.T
