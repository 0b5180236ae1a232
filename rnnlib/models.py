"""The many-to-many RNN language model, and the parameter dict every model here builds on."""

from __future__ import annotations

import numpy as np

from . import _malloc
from ._validate import (
    as_generator,
    check_affine_args,
    check_choice,
    check_float_array,
    check_float_dtype,
    check_ids,
    check_inputs,
    check_nonempty_time,
    check_positive_float,
    check_positive_int,
    check_rnn_args,
    check_same_dtype,
)
from .layers import affine_backward, affine_forward
from .loss import sequence_cross_entropy, softmax
from .rnn import rnn_backward, rnn_forward, sum_by_id

LM_PARAM_NAMES = ("W", "U", "b", "V", "b_y")


def init_lm_params(input_size, hidden_size, output_size, *, rng, dtype=np.float64, init_scale=None):
    """A language model's parameters ``{W (H, D), U (H, H), b (H,), V (K, H), b_y (K,)}``.

    Each is uniform in +-1/sqrt(n), n its fan-in (D for W, H for the others), or in
    +-``init_scale``; drawn from ``rng`` (a Generator or int seed) in that order.
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    K = check_positive_int("output_size", output_size)
    dtype = check_float_dtype("dtype", dtype)
    rng = as_generator(rng)
    if init_scale is not None:
        init_scale = check_positive_float("init_scale", init_scale, allow_zero=True)
    shapes = {"W": (H, D), "U": (H, H), "b": (H,), "V": (K, H), "b_y": (K,)}
    params = {}
    for name, shape in shapes.items():
        scale = 1 / np.sqrt(D if name == "W" else H) if init_scale is None else init_scale
        params[name] = rng.uniform(-scale, scale, size=shape).astype(dtype)
    return params


def check_lm_params(params):
    """Check ``{W (H, D), U (H, H), b (H,), V (K, H), b_y (K,)}`` of one float dtype; return (D, H, K)."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict with keys {sorted(LM_PARAM_NAMES)}, "
                        f"got {type(params).__name__}")
    if set(params) != set(LM_PARAM_NAMES):
        raise ValueError(f"params: expected a dict with keys {sorted(LM_PARAM_NAMES)}, "
                         f"got keys {sorted(params)}")
    H, D = check_float_array("params['W']", params["W"], (None, None), allow_nonfinite=True).shape
    K = check_float_array("params['V']", params["V"], (None, H), allow_nonfinite=True).shape[0]
    for name, shape in (("U", (H, H)), ("b", (H,)), ("b_y", (K,))):
        check_float_array(f"params[{name!r}]", params[name], shape, allow_nonfinite=True)
    check_same_dtype(**{f"params[{k!r}]": params[k] for k in LM_PARAM_NAMES})
    return D, H, K


def check_one_or_batch(name, x, input_size, h0=None, hidden_size=None):
    """Sequences ``x`` as a batch, and whether the caller passed one sequence.

    A batch, (B, T) ids or (B, T, D) floats, is returned as it is; one sequence, (T,) ids
    or (T, D) floats, as a batch of one, with its ``h0`` (H,) as (1, H). Errors name
    ``name`` and ``h0``. Returns ``(x, h0, one)``, x (B, T) or (B, T, D).
    """
    ids = isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.integer)
    one = isinstance(x, np.ndarray) and x.ndim == (1 if ids else 2)
    if ids and x.ndim not in (1, 2):
        raise ValueError(f"{name}: expected ids of shape (T,) (one sequence) or (B, T) (a batch), "
                         f"got shape {x.shape}")
    check_inputs(name, x, (None,) if one else (None, None), input_size)
    if one and len(x) == 0:
        raise ValueError(f"{name}: expected a sequence of at least one step, got shape {x.shape}")
    check_nonempty_time(name, x)
    if one and h0 is not None:
        check_float_array("h0", h0, (hidden_size,))
    return (x[None], None if h0 is None else h0[None], True) if one else (x, h0, False)


class RNNLanguageModel:
    """Many-to-many RNN: read ids x_t, predict a class y_t at every step::

        h_t = tanh(W x_t + U h_{t-1} + b),   z_t = V h_t + b_y,   p_t = softmax(z_t)

    ``params`` is ``{W (H, D), U (H, H), b (H,), V (K, H), b_y (K,)}`` with
    D = ``input_size`` (input vocabulary), H = ``hidden_size``, K = ``output_size``
    (default D, as when predicting the next token); see ``init_lm_params``. The
    source's ``RNNNumpy(5, 4)`` is ``RNNLanguageModel(5, 10, 4, rng=...)``; the source
    draws W with n = K instead of the fan-in D. Gradients use the keys of ``params``.
    Do not modify the parameters between ``forward`` and ``backward``: the cache
    holds references to them.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """

    def __init__(self, input_size, hidden_size, output_size=None, *, rng, dtype=np.float64,
                 init_scale=None):
        K = input_size if output_size is None else output_size
        self.params = init_lm_params(input_size, hidden_size, K, rng=rng, dtype=dtype,
                                     init_scale=init_scale)
        (H, D), K = self.params["W"].shape, self.params["V"].shape[0]
        self.input_size, self.hidden_size, self.output_size = D, H, K

    @classmethod
    def from_params(cls, params):
        """A model around existing parameters, shared, not copied (``model.params is params``).

        The sizes D, H, K are read from the shapes (``check_lm_params``).
        """
        model = cls.__new__(cls)
        model.input_size, model.hidden_size, model.output_size = check_lm_params(params)
        model.params = params
        return model

    def forward(self, x, h0=None):
        """Scores of every step. x: (B, T) ids in [0, D); h0: (B, H) or None (zeros).

        Returns ``logits`` (B, T, K) and a cache; ``cache["h_last"]`` (B, H) is the
        state after the last step.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        p = self.params
        hs, rnn_cache = rnn_forward(x, h0, p["W"], p["U"], p["b"])  # h_t for t = 1..T
        logits, out_cache = affine_forward(hs, p["V"], p["b_y"])    # z_t = V h_t + b_y
        return logits, {"rnn": rnn_cache, "out": out_cache, "h_last": hs[:, -1].copy()}

    def backward(self, dlogits, cache, truncate=None, chunk=None):
        """Gradients under the keys of ``params`` from ``dlogits`` (B, T, K).

        ``truncate`` and ``chunk`` are those of ``rnn_backward``.

        Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
        """
        g_out = affine_backward(dlogits, cache["out"])
        g_rnn = rnn_backward(g_out["dh"], cache["rnn"], truncate=truncate, chunk=chunk)
        return lm_grads(g_rnn, g_out)

    def loss(self, x, y, h0=None, mask=None, reduction="sum", truncate=None, chunk=None):
        """Loss, gradients and final state for ids x (B, T) and targets y (B, T).

        Returns ``(loss, grads, h_last)``; ``grads`` has the keys of ``params``;
        ``h_last`` (B, H) is the state after step T-1 (padded steps included). Pass it
        as ``h0`` of the next chunk to train statefully (truncated BPTT across calls).

        Derived in: Chapter 2, Loss (book/02_loss.ipynb)
        """
        if mask is None and truncate is None and chunk is None and _fast_step_applies(self, x):
            return _training_step(self, x, y, h0, reduction)  # the same numbers, faster
        logits, cache = self.forward(x, h0)
        check_ids("y", y, x.shape[:2], self.output_size)
        loss, dlogits = sequence_cross_entropy(logits, y, mask=mask, reduction=reduction)
        grads = self.backward(dlogits, cache, truncate=truncate, chunk=chunk)
        return loss, grads, cache["h_last"]

    def predict(self, x, h0=None):
        """Probabilities (B, T, K) of each class at each step (the source's missing method).

        x: (B, T) ids, h0: (B, H) or None; or one sequence, x (T,) and h0 (H,) or None,
        which gives (T, K).

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        x, h0, one = check_one_or_batch("x", x, self.input_size, h0, self.hidden_size)
        logits, _ = self.forward(x, h0)
        p = softmax(logits)
        return p[0] if one else p

    def sample(self, seed_ids, n, rng=None, *, temperature=1.0, greedy=False, h0=None):
        """Generate ``n`` ids after reading ``seed_ids`` (B, T0); returns (B, n) int64.

        One sequence of ids, ``seed_ids`` (T0,) (with h0 (H,) or None), gives (n,).
        Each new id is drawn from softmax(z / temperature) with ``rng`` (a Generator or
        int seed), or is the arg max when ``greedy=True`` (then rng may be None), and is
        fed back as the next input; this needs output_size == input_size.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        seed, h0, one, n, temperature, rng = self._check_sample_args(
            seed_ids, h0, n, rng, temperature, greedy)
        W, U, b, V, b_y = (self.params[k] for k in LM_PARAM_NAMES)
        logits, cache = self.forward(seed, h0)
        z, h = logits[:, -1], cache["h_last"]
        out = np.empty((seed.shape[0], n), dtype=np.int64)
        for i in range(n):
            if greedy:
                ids = z.argmax(axis=-1)
            else:  # draw from p = softmax(z / temperature)
                cdf = np.cumsum(softmax(z / temperature), axis=-1)
                u = rng.random((z.shape[0], 1)) * cdf[:, -1:]
                ids = np.minimum((cdf <= u).sum(axis=-1), z.shape[-1] - 1)  # inverse cdf
            out[:, i] = ids
            h = np.tanh(W.T[ids] + b + h @ U.T)  # h_t = tanh(W x_t + b + U h_{t-1})
            z = h @ V.T + b_y                     # z_t = V h_t + b_y
        return out[0] if one else out

    def _check_sample_args(self, seed_ids, h0, n, rng, temperature, greedy):
        if self.output_size != self.input_size:
            raise ValueError(f"output_size: expected equal to input_size ({self.input_size}) to feed "
                             f"samples back, got {self.output_size}")
        seed, h0, one = check_one_or_batch("seed_ids", seed_ids, self.input_size, h0, self.hidden_size)
        n = check_positive_int("n", n, allow_zero=True)
        temperature = check_positive_float("temperature", temperature)
        return seed, h0, one, n, temperature, (rng if greedy else as_generator(rng))


def lm_grads(g_rnn, g_out):
    """``rnn_backward``'s and ``affine_backward``'s gradients under the keys of ``params``."""
    return {"W": g_rnn["dW"], "U": g_rnn["dU"], "b": g_rnn["db"],
            "V": g_out["dV"], "b_y": g_out["db_y"]}


# ---- below the functions the chapters show: the training step's fast path (performance appendix)


def _fast_step_applies(model, x):
    """Token ids, and no subclass that changed forward or backward (loss must call those)."""
    cls = type(model)
    return (isinstance(x, np.ndarray) and x.dtype.kind in "iu" and cls.forward is RNNLanguageModel.forward
            and cls.backward is RNNLanguageModel.backward)


def _training_step(model, x, y, h0, reduction):
    """``RNNLanguageModel.loss(x, y, h0, reduction=...)`` with full BPTT and no mask, bit for bit.

    The same numpy operations on the same operands as ``rnn_forward``, ``affine_forward``,
    ``sequence_cross_entropy``, ``affine_backward`` and ``rnn_backward``, in fewer calls:
    the argument checks of the user's data run once (the same checks, in the same order);
    the scans of arrays this function made itself (dlogits, dL/dh) are left out, since
    they cannot fail once the logits are finite and max|V| < (largest float) / 4 (else it
    runs the shown functions, which raise their usual error). ``tests/test_fast_step.py``
    checks the results against the shown functions' bit for bit.
    """
    _malloc.keep_freed_memory()  # the first call tunes malloc (see rnnlib/_malloc.py)
    W, U, b, V, b_y = (model.params[k] for k in LM_PARAM_NAMES)
    B, T, H = check_rnn_args(x, h0, W, U, b)
    # forward: h_t = tanh(W x_t + b + U h_{t-1}), time-major (T + 1, B, H) as in rnn_forward
    s = np.take(W.T, x.T, axis=0)  # W x_t, (T, B, H)
    s += b
    h = np.zeros((T + 1, B, H), dtype=W.dtype)
    if h0 is not None:
        h[0] = h0
    U_T = U.T.copy()
    for t in range(1, T + 1):
        np.tanh(s[t - 1] + h[t - 1] @ U_T, out=h[t])
    check_affine_args(h[1:].swapaxes(0, 1), V, b_y)
    N = T * B
    z = h[1:].reshape(N, H) @ V.T  # scores z_t = V h_t + b_y, row t*B + i
    z += b_y
    K = V.shape[0]
    logits = z.reshape(T, B, K).swapaxes(0, 1)
    check_ids("y", y, x.shape, model.output_size)
    check_float_array("logits", logits, (None, None, None))  # check_loss_args's checks that y
    check_choice("reduction", reduction, ("sum", "mean"))    # has not passed: NaN, inf, reduction
    if not np.abs(V).max() < np.finfo(V.dtype).max / 4:  # dL/dh might overflow: the checked path
        return _checked_loss(model, x, y, h0, reduction)
    # loss: log_softmax and the cross-entropy of sequence_cross_entropy
    logp = z - z.max(axis=-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=-1, keepdims=True))
    weight = np.ones((B, T), dtype=z.dtype)
    if reduction == "mean":
        weight = weight / weight.sum()
    logp3 = logp.reshape(T, B, K)
    b_idx, t_idx = np.indices((B, T))
    loss = -(logp3[t_idx, b_idx, y] * weight).sum()
    dz = np.exp(logp)  # p, then p - onehot(y), times the weight
    dz3 = dz.reshape(T, B, K)
    dz3[t_idx, b_idx, y] -= 1
    dz3 *= weight.T[..., None]
    # backward: affine_backward, then bptt_deltas and grads_from_deltas
    dhs = (dz @ V).reshape(T, B, H)  # dL/dh_t from the outputs
    dV = dz.T @ h[1:].reshape(N, H)
    db_y = dz.sum(axis=0)
    ds = 1 - h[1:] ** 2  # tanh'(s_t), times dL/dh_t in place: the deltas
    dh_next = np.zeros((B, H), dtype=W.dtype)
    for t in range(T, 0, -1):
        ds[t - 1] *= dhs[t - 1] + dh_next
        dh_next = ds[t - 1] @ U
    ds_rows = ds.reshape(N, H)
    grads = {"W": sum_by_id(ds_rows, x.T.reshape(N), W.shape[1]),
             "U": ds_rows.T @ h[:-1].reshape(N, H),
             "b": ds_rows.sum(axis=0), "V": dV, "b_y": db_y}
    return loss, grads, h[T].copy()


def _checked_loss(model, x, y, h0, reduction):
    """``RNNLanguageModel.loss`` through the shown functions and all of their checks."""
    logits, cache = model.forward(x, h0)
    loss, dlogits = sequence_cross_entropy(logits, y, reduction=reduction)
    return loss, model.backward(dlogits, cache), cache["h_last"]
