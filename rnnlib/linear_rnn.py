"""Linear recurrences, their parallel scan, and two recurrent layers built on them: minGRU and the LRU.

    h_t = a_t * h_{t-1} + b_t        (elementwise)

is the Elman RNN without its tanh and with a diagonal U that may change from step to step.
a, b and the states hs are batch-major, (B, T, H); h0 is (B, H), or None for zeros. Because
the pairs (a_t, b_t) compose associatively, all T states can be computed by a parallel scan
in O(log T) sequential rounds of array operations instead of T steps.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    as_generator,
    check_float_array,
    check_float_dtype,
    check_grad,
    check_ids,
    check_inputs,
    check_nonempty_time,
    check_positive_float,
    check_positive_int,
    check_same_dtype,
)
from .cudnn.cells import sigmoid
from .layers import affine_backward, affine_forward
from .loss import sequence_cross_entropy
from .rnn import input_term, input_term_backward

# ------------------------------------------------------------ the recurrence and its scan --


def linear_recurrence(a, b, h0=None):
    """The loop: h_t = a_t * h_{t-1} + b_t for t = 1, ..., T, one step after another.

    a, b: (B, T, H); h0: (B, H) or None (zeros). Returns hs (B, T, H), hs[:, t-1] = h_t.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_linear_args(a, b, h0)
    h = np.zeros_like(b[:, 0]) if h0 is None else h0
    hs = np.empty_like(b)
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]  # h_t = a_t * h_{t-1} + b_t
        hs[:, t] = h
    return hs


def linear_closed_form(a, b, h0=None):
    """The closed form h_t = A_t (h_0 + sum_{s<=t} b_s / A_s), with A_t = a_1 ... a_t.

    a (nonzero), b: (B, T, H); h0: (B, H) or None. Returns hs (B, T, H). Exact in
    arithmetic; in floating point A_t underflows to 0 on long sequences, and then 0 * inf.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_linear_args(a, b, h0)
    A = np.cumprod(a, axis=1)  # A_t = a_1 a_2 ... a_t
    h0 = 0.0 if h0 is None else h0[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return A * (h0 + np.cumsum(b / A, axis=1))


def combine(a1, b1, a2, b2):
    """Step (a1, b1) then step (a2, b2), as one step: h -> a2 (a1 h + b1) + b2.

    Returns (a1 a2, a2 b1 + b2). Associative, not commutative.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    return a1 * a2, a2 * b1 + b2


def scan(a, b):
    """Blelloch's work-efficient scan of the steps (a_t, b_t) along axis 1.

    a, b: (B, T, ...) of one dtype (real or complex), not checked. Returns (A, S) like b:
    (A_t, S_t) = (a_1, b_1) then ... then (a_t, b_t), so S_t is h_t from h_0 = 0 and A_t is
    a_1 ... a_t. T is padded to a power of two n with the identity step (1, 0); an up-sweep
    and a down-sweep of log2 n rounds each, then one more: 2 log2 n + 1 rounds of array
    operations, about 3n ``combine``s of work in all. Each round updates its nodes in place,
    as ``combine`` says.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    T = b.shape[1]
    n = 1 << (T - 1).bit_length()  # the next power of two
    A = np.ones(b.shape[:1] + (n,) + b.shape[2:], dtype=np.result_type(a, b))
    S = np.zeros_like(A)
    A[:, :T], S[:, :T] = a, b
    d = 1
    while d < n:  # up-sweep: node i becomes the 2d steps that end at i, taken together
        left, right = np.s_[:, d - 1::2 * d], np.s_[:, 2 * d - 1::2 * d]
        S[right] += A[right] * S[left]  # combine(left, right) = (A_l A_r, A_r S_l + S_r)
        A[right] *= A[left]
        d *= 2
    A[:, -1], S[:, -1] = 1, 0  # down-sweep: the root's prefix is the empty one
    while d > 1:
        d //= 2
        left, right = np.s_[:, d - 1::2 * d], np.s_[:, 2 * d - 1::2 * d]
        A_left, S_left = A[left].copy(), S[left].copy()  # the left half's own steps
        A[left], S[left] = A[right], S[right]  # the left half starts where the node starts
        S[right] *= A_left  # the right half starts after the left half's steps:
        S[right] += S_left  # combine(prefix, left half) = (A_p A_l, A_l S_p + S_l)
        A[right] *= A_left
    A, S = A[:, :T], S[:, :T]  # the prefix before step t, then step t, in place:
    S *= a  # combine(prefix, step t) = (A_p a_t, a_t S_p + b_t)
    S += b
    A *= a
    return A, S


def linear_scan(a, b, h0=None):
    """All states of h_t = a_t * h_{t-1} + b_t by the parallel scan ``scan``.

    a, b: (B, T, H); h0: (B, H) or None (zeros). Returns hs (B, T, H), equal to
    ``linear_recurrence(a, b, h0)`` up to rounding.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_linear_args(a, b, h0)
    if h0 is not None:
        b = b.copy()
        b[:, 0] += a[:, 0] * h0  # h_1 = a_1 h_0 + b_1: fold h_0 into the first step
    return scan(a, b)[1]


def log_linear_scan(log_a, log_b, log_h0=None):
    """log h_t for positive a, b, h0, from their logarithms, never leaving log space.

    h_t = A_t (h_0 + sum_{s<=t} b_s / A_s) with log A_t = sum_{s<=t} log a_s, so
    log h_t = log A_t + logsumexp(log h_0, log b_1 - log A_1, ..., log b_t - log A_t):
    a cumulative sum and a cumulative log-sum-exp, both O(T). log_a, log_b: (B, T, H);
    log_h0: (B, H) or None (h_0 = 0). Returns log hs (B, T, H).

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_linear_args(log_a, log_b, log_h0, names=("log_a", "log_b", "log_h0"))
    log_A = np.cumsum(log_a, axis=1)  # log A_t, where A_t = a_1 ... a_t
    terms = log_b - log_A  # log (b_s / A_s)
    if log_h0 is not None:
        terms = np.concatenate([log_h0[:, None], terms], axis=1)
    log_sums = np.logaddexp.accumulate(terms, axis=1)
    return log_A + (log_sums[:, 1:] if log_h0 is not None else log_sums)


def linear_scan_backward(dhs, a, hs, h0=None):
    """Gradients of h_t = a_t * h_{t-1} + b_t, by a reverse scan.

    With dhs = dL/dh_t from above, the total gradient g_t = dL/dh_t through every later
    step is g_t = dhs_t + a_{t+1} * g_{t+1} (g_T = dhs_T): the same recurrence, run
    backwards with the a's shifted by one. Then da_t = g_t * h_{t-1}, db_t = g_t and
    dh0 = a_1 * g_1. dhs, a, hs: (B, T, H), hs from the forward pass; h0: (B, H) or None
    (zeros). Returns a dict of da, db (B, T, H) and dh0 (B, H).

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_linear_args(a, hs, h0, names=("a", "hs", "h0"))
    check_grad("dhs", dhs, hs.shape, hs.dtype)
    g = reverse_scan(dhs, a)
    h_prev = _previous_states(hs, h0)
    return {"da": g * h_prev, "db": g, "dh0": a[:, 0] * g[:, 0]}


def reverse_scan(dhs, a):
    """g_t = dhs_t + a_{t+1} * g_{t+1} for t = T, ..., 1 (g_T = dhs_T), as one forward
    ``scan`` of the reversed sequence. dhs, a: (B, T, ...), not checked; returns g like dhs.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    a_next = np.zeros_like(a)
    a_next[:, :-1] = a[:, 1:]  # a_{t+1}; nothing comes after step T
    return scan(a_next[:, ::-1], dhs[:, ::-1])[1][:, ::-1]


def _previous_states(hs, h0):
    """h_{t-1} for t = 1..T: (B, T, H) from hs (B, T, H) and h0 (B, H) or None (zeros)."""
    h_prev = np.zeros_like(hs)
    h_prev[:, 1:] = hs[:, :-1]
    if h0 is not None:
        h_prev[:, 0] = h0
    return h_prev


# ---------------------------------------------------------------------------- minGRU --


def min_gru_forward(x, h0, W, b, W_z, b_z):
    """minGRU over a sequence (Feng et al. 2024): gates that read x_t only, run by a scan.

        z_t = sigmoid(W_z x_t + b_z),   h~_t = W x_t + b,
        h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

    x: (B, T, D) floats or (B, T) ids; h0: (B, H) or None (zeros); W, W_z: (H, D);
    b, b_z: (H,).
    Returns hs (B, T, H) and a cache for ``min_gru_backward`` that holds x, W and W_z
    themselves: do not change them in place before the backward pass.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_min_gru_args(x, h0, W, b, W_z, b_z)
    z = sigmoid(input_term(x, W_z) + b_z)  # the update gate of every step at once
    h_tilde = input_term(x, W) + b  # the candidate: the Elman RNN's s_t without U h_{t-1}
    a, b_scan = 1 - z, z * h_tilde  # h_t = a_t * h_{t-1} + b_t
    if h0 is not None:
        b_scan[:, 0] += a[:, 0] * h0
    hs = scan(a, b_scan)[1]
    return hs, {"x": x, "h0": h0, "z": z, "h_tilde": h_tilde, "hs": hs, "W": W, "W_z": W_z}


def min_gru_backward(dhs, cache):
    """Gradients of ``min_gru_forward`` from dhs (B, T, H) = dL/dh_t from the layers above.

    The reverse scan gives g_t (``linear_scan_backward``); then
    dL/dz_t = g_t * (h~_t - h_{t-1}) and dL/dh~_t = g_t * z_t. Returns a dict of dW, db,
    dW_z, db_z, dh0 (B, H) (and dx (B, T, D) for float inputs).

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    if not isinstance(cache, dict) or not {"z", "h_tilde", "hs"} <= set(cache):
        raise TypeError("cache: expected the cache dict returned by min_gru_forward, "
                        f"got {type(cache).__name__}")
    z, h_tilde, hs, x = cache["z"], cache["h_tilde"], cache["hs"], cache["x"]
    check_grad("dhs", dhs, hs.shape, hs.dtype)
    g = reverse_scan(dhs, 1 - z)  # g_t = dL/dh_t through every later step
    h_prev = _previous_states(hs, cache["h0"])
    dz = g * (h_tilde - h_prev)  # h_t = h_{t-1} + z_t (h~_t - h_{t-1})
    da_z = dz * z * (1 - z)  # through the sigmoid
    dh_tilde = g * z
    rows = x.reshape(-1, *x.shape[2:])  # (B*T,) ids or (B*T, D)
    H = hs.shape[-1]
    dW, dx = input_term_backward(dh_tilde.reshape(-1, H), rows, cache["W"])
    dW_z, dx_z = input_term_backward(da_z.reshape(-1, H), rows, cache["W_z"])
    grads = {"dW": dW, "db": dh_tilde.sum(axis=(0, 1)),
             "dW_z": dW_z, "db_z": da_z.sum(axis=(0, 1)), "dh0": (1 - z[:, 0]) * g[:, 0]}
    if dx is not None:
        grads["dx"] = (dx + dx_z).reshape(x.shape)
    return grads


MIN_GRU_LM_PARAM_NAMES = ("W", "b", "W_z", "b_z", "V", "b_y")


class MinGRULanguageModel:
    """A character language model with one minGRU layer and a softmax output::

        h_t = minGRU(x_t, h_{t-1}),   z_t = V h_t + b_y,   p_t = softmax(z_t)

    ``params``: ``{W, W_z (H, D), b, b_z (H,), V (K, H), b_y (K,)}``, each uniform in
    +-1/sqrt(fan-in) from ``rng`` (a Generator or int seed). The interface of
    ``RNNLanguageModel`` (``forward``, ``backward``, ``loss``), so ``train_language_model``
    and ``bits_per_char`` train and score it. The cache holds the parameters themselves.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """

    def __init__(self, input_size, hidden_size, output_size=None, *, rng, dtype=np.float64):
        D = check_positive_int("input_size", input_size)
        H = check_positive_int("hidden_size", hidden_size)
        K = check_positive_int("output_size", D if output_size is None else output_size)
        dtype = check_float_dtype("dtype", dtype)
        rng = as_generator(rng)
        shapes = {"W": (H, D), "b": (H,), "W_z": (H, D), "b_z": (H,), "V": (K, H), "b_y": (K,)}
        self.params = {}
        for name, shape in shapes.items():
            scale = 1 / np.sqrt(D if name in ("W", "W_z") else H)
            self.params[name] = rng.uniform(-scale, scale, size=shape).astype(dtype)
        self.input_size, self.hidden_size, self.output_size = D, H, K

    def forward(self, x, h0=None):
        """Scores (B, T, K) for ids x (B, T), from h0 (B, H) or zeros; the cache's
        ``h_last`` (B, H) is the state after the last step.

        Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
        """
        p = self.params
        hs, cache = min_gru_forward(x, h0, p["W"], p["b"], p["W_z"], p["b_z"])
        logits, out_cache = affine_forward(hs, p["V"], p["b_y"])
        return logits, {"min_gru": cache, "out": out_cache, "h_last": hs[:, -1].copy()}

    def backward(self, dlogits, cache):
        """Gradients under the keys of ``params`` from ``dlogits`` (B, T, K).

        Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
        """
        g_out = affine_backward(dlogits, cache["out"])
        g = min_gru_backward(g_out["dh"], cache["min_gru"])
        return {"W": g["dW"], "b": g["db"], "W_z": g["dW_z"], "b_z": g["db_z"],
                "V": g_out["dV"], "b_y": g_out["db_y"]}

    def loss(self, x, y, h0=None, mask=None, reduction="sum"):
        """``(loss, grads, h_last)`` for ids x and targets y (B, T), as ``RNNLanguageModel.loss``.

        Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
        """
        logits, cache = self.forward(x, h0)
        check_ids("y", y, x.shape[:2], self.output_size)  # (B, T), for ids or floats
        loss, dlogits = sequence_cross_entropy(logits, y, mask=mask, reduction=reduction)
        return loss, self.backward(dlogits, cache), cache["h_last"]


# ------------------------------------------------------------------------------- LRU --

LRU_PARAM_NAMES = ("nu_log", "theta_log", "B_re", "B_im", "C_re", "C_im", "D")


def init_lru_params(input_size, state_size, *, rng, r_min=0.0, r_max=1.0, max_phase=2 * np.pi):
    """The LRU's parameters (Orvieto et al. 2023), real arrays in a dict.

    lambda_j = exp(-exp(nu_log_j) + i exp(theta_log_j)) is drawn uniformly on the ring
    r_min <= abs(lambda) <= r_max (r_min < 1) with phase in [0, max_phase);
    B = B_re + i B_im (N, D) with entries N(0, 1 / (2D)); C = C_re + i C_im (D, N) with
    N(0, 1 / N); D (D,) with N(0, 1).
    N = ``state_size``, D = ``input_size``; rng: a Generator or int seed.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    D = check_positive_int("input_size", input_size)
    N = check_positive_int("state_size", state_size)
    r_min = check_positive_float("r_min", r_min, allow_zero=True)
    r_max = check_positive_float("r_max", r_max)
    if not (r_min <= r_max <= 1 and r_min < 1):
        raise ValueError(f"r_max: expected r_min <= r_max <= 1 and r_min < 1, got r_min={r_min}, r_max={r_max}")
    max_phase = check_positive_float("max_phase", max_phase)
    rng = as_generator(rng)
    u1, u2 = rng.uniform(size=N), rng.uniform(size=N)
    nu = -0.5 * np.log(u1 * (r_max**2 - r_min**2) + r_min**2)  # |lambda| = exp(-nu)
    return {"nu_log": np.log(nu), "theta_log": np.log(max_phase * u2),
            "B_re": rng.normal(size=(N, D)) / np.sqrt(2 * D), "B_im": rng.normal(size=(N, D)) / np.sqrt(2 * D),
            "C_re": rng.normal(size=(D, N)) / np.sqrt(N), "C_im": rng.normal(size=(D, N)) / np.sqrt(N),
            "D": rng.normal(size=D)}


def lru_eigenvalues(params):
    """lambda = exp(-exp(nu_log) + i exp(theta_log)) (N,) complex, and the normalisation
    gamma = sqrt(1 - abs(lambda)^2) (N,) real. Not checked.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    lam = np.exp(-np.exp(params["nu_log"]) + 1j * np.exp(params["theta_log"]))
    return lam, np.sqrt(1 - np.abs(lam) ** 2)


def lru_forward(u, params):
    """The LRU layer over a sequence, from state zero:

        x_t = lambda * x_{t-1} + gamma * (B u_t),   y_t = Re(C x_t) + D * u_t

    u: (B, T, D) floats; params: ``init_lru_params``'s dict. Returns y (B, T, D) and a cache
    for ``lru_backward`` (it holds u and params themselves). The states x (B, T, N) are
    complex; the scan computes them.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_lru_args(u, params)
    lam, gamma = lru_eigenvalues(params)
    Bu = u @ (params["B_re"] + 1j * params["B_im"]).T  # B u_t, (B, T, N)
    a = np.broadcast_to(lam, Bu.shape)  # the same lambda at every step
    xs = scan(a, gamma * Bu)[1]
    y = (xs @ (params["C_re"] + 1j * params["C_im"]).T).real + params["D"] * u
    return y, {"u": u, "params": params, "lam": lam, "gamma": gamma, "Bu": Bu, "xs": xs}


def lru_backward(dy, cache):
    """Gradients of ``lru_forward`` from dy (B, T, D) = dL/dy_t.

    For a complex quantity q the gradient is carried as G_q = dL/dRe q + i dL/dIm q; the
    state's obeys G_t = C^H dy_t + conj(lambda) G_{t+1}, a reverse scan. Returns a dict with
    the keys of ``params`` and ``du`` (B, T, D); ``G_x`` (B, T, N) holds the states' G_t.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    if not isinstance(cache, dict) or not {"lam", "xs", "Bu"} <= set(cache):
        raise TypeError("cache: expected the cache dict returned by lru_forward, "
                        f"got {type(cache).__name__}")
    u, p, lam, gamma = cache["u"], cache["params"], cache["lam"], cache["gamma"]
    Bu, xs = cache["Bu"], cache["xs"]
    check_grad("dy", dy, u.shape, u.dtype)
    C = p["C_re"] + 1j * p["C_im"]
    lam_conj = np.broadcast_to(lam.conj(), xs.shape)
    G = reverse_scan(dy @ C.conj(), lam_conj)  # y_t = Re(C x_t) + ...: from above, C^H dy_t
    x_prev = _previous_states(xs, None)
    G_lam = (G * x_prev.conj()).sum(axis=(0, 1))  # x_t = lambda x_{t-1} + ...
    G_w = G_lam * lam.conj()  # lambda = exp(w), w = -exp(nu_log) + i exp(theta_log)
    nu = np.exp(p["nu_log"])
    d_gamma = (G * Bu.conj()).real.sum(axis=(0, 1))  # b_t = gamma * (B u_t)
    G_Bu = gamma * G
    return {"nu_log": -G_w.real * nu + d_gamma * np.abs(lam) ** 2 * nu / gamma,
            "theta_log": G_w.imag * np.exp(p["theta_log"]),
            "B_re": np.einsum("btn,btd->nd", G_Bu.real, u),
            "B_im": np.einsum("btn,btd->nd", G_Bu.imag, u),
            "C_re": np.einsum("btk,btn->kn", dy, xs.real),
            "C_im": -np.einsum("btk,btn->kn", dy, xs.imag),
            "D": (dy * u).sum(axis=(0, 1)),
            "du": G_Bu.real @ p["B_re"] + G_Bu.imag @ p["B_im"] + p["D"] * dy,
            "G_x": G}


# ---------------------------------------------------------------------- the convolution view --


def lru_kernel(params, T):
    """The LRU as a convolution: y_t = sum_{k=0}^{t-1} K_k u_{t-k} + D * u_t with
    K_k = Re(C diag(gamma lambda^k) B) (D, D). Returns K (T, D, D); T: the length.

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    _check_lru_params(params)
    T = check_positive_int("T", T)
    lam, gamma = lru_eigenvalues(params)
    powers = gamma * lam ** np.arange(T)[:, None]  # gamma lambda^k, (T, N)
    C, B = params["C_re"] + 1j * params["C_im"], params["B_re"] + 1j * params["B_im"]
    return np.einsum("kn,tn,nd->tkd", C, powers, B).real


def causal_conv_fft(u, kernel):
    """y_t = sum_{k=0}^{t-1} kernel[k] @ u_{t-k}, all t at once with the FFT (zero-padded
    to 2T, so that the circular convolution does not wrap around).

    u: (B, T, D); kernel: (T, K, D). Returns y (B, T, K).

    Derived in: Chapter 8, Linear recurrences (book/08_linear_recurrences.ipynb)
    """
    B, T, D = check_float_array("u", u, (None, None, None)).shape
    check_nonempty_time("u", u)
    check_float_array("kernel", kernel, (T, None, D))
    n = 2 * T
    U_f = np.fft.rfft(u, n=n, axis=1)  # (B, n/2+1, D)
    K_f = np.fft.rfft(kernel, n=n, axis=0)  # (n/2+1, K, D)
    return np.fft.irfft(np.einsum("fkd,bfd->bfk", K_f, U_f), n=n, axis=1)[:, :T]


# ------------------------------------------------------------------- argument checks --


def _check_linear_args(a, b, h0, names=("a", "b", "h0")):
    B, T, H = check_float_array(names[1], b, (None, None, None)).shape
    check_nonempty_time(names[1], b)
    check_float_array(names[0], a, (B, T, H))
    arrays = {names[1]: b, names[0]: a}
    if h0 is not None:
        arrays[names[2]] = check_float_array(names[2], h0, (B, H))
    check_same_dtype(**arrays)


def _check_min_gru_args(x, h0, W, b, W_z, b_z):
    H, D = check_float_array("W", W, (None, None), allow_nonfinite=True).shape
    check_float_array("b", b, (H,), allow_nonfinite=True)
    check_float_array("W_z", W_z, (H, D), allow_nonfinite=True)
    check_float_array("b_z", b_z, (H,), allow_nonfinite=True)
    is_ids = check_inputs("x", x, (None, None), D)
    check_nonempty_time("x", x)
    floats = {"W": W, "b": b, "W_z": W_z, "b_z": b_z}
    if h0 is not None:
        floats["h0"] = check_float_array("h0", h0, (x.shape[0], H))
    if not is_ids:
        floats["x"] = x
    check_same_dtype(**floats)


def _check_lru_params(params):
    if not isinstance(params, dict) or set(params) != set(LRU_PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise TypeError(f"params: expected a dict with keys {sorted(LRU_PARAM_NAMES)}, got {got}")
    N = check_float_array("params['nu_log']", params["nu_log"], (None,), allow_nonfinite=True).shape[0]
    D = check_float_array("params['B_re']", params["B_re"], (N, None), allow_nonfinite=True).shape[1]
    for name, shape in (("theta_log", (N,)), ("B_im", (N, D)), ("C_re", (D, N)), ("C_im", (D, N)),
                        ("D", (D,))):
        check_float_array(f"params[{name!r}]", params[name], shape, allow_nonfinite=True)
    return D


def _check_lru_args(u, params):
    D = _check_lru_params(params)
    check_float_array("u", u, (None, None, D))
    check_nonempty_time("u", u)
