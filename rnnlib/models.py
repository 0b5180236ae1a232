"""Models composed from the functional core: a many-to-many RNN language model."""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .layers import affine_backward, affine_forward
from .loss import sequence_cross_entropy, softmax
from .rnn import rnn_backward, rnn_forward, rnn_step_forward


class RNNLanguageModel:
    """Many-to-many RNN: read ids x_t, predict a class y_t at every step.

    ``params`` is a dict ``{W (H, D), U (H, H), b (H,), V (K, H), b_y (K,)}`` with
    D = ``input_size`` (input vocabulary), H = ``hidden_size``, K = ``output_size``
    (output classes; defaults to D, as when predicting the next token). The source's
    ``RNNNumpy(5, 4)`` is ``RNNLanguageModel(5, 10, 4, rng=...)``.

    Initialisation: by default each parameter is uniform in +-1/sqrt(n), n the number
    of columns of its matrix, its fan-in: D for W, H for U and V, and H for the biases
    b and b_y. The source draws U, V and the biases the same way but W with n = K, its
    number of output classes. With ``init_scale=s`` every parameter is uniform in +-s
    (a small s makes the initial loss T ln K).

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """

    def __init__(self, input_size, hidden_size, output_size=None, *, rng, dtype=np.float64,
                 init_scale=None):
        D = v.check_positive_int("input_size", input_size)
        H = v.check_positive_int("hidden_size", hidden_size)
        K = D if output_size is None else v.check_positive_int("output_size", output_size)
        v.check_float_dtype("dtype", dtype)
        rng = v.as_generator(rng)
        shapes = {"W": (H, D), "U": (H, H), "b": (H,), "V": (K, H), "b_y": (K,)}
        fan_in = {"W": D, "U": H, "b": H, "V": H, "b_y": H}
        if init_scale is not None:
            init_scale = v.check_positive_float("init_scale", init_scale, allow_zero=True)
        self.params = {}
        for name, shape in shapes.items():
            scale = 1 / np.sqrt(fan_in[name]) if init_scale is None else init_scale
            self.params[name] = rng.uniform(-scale, scale, size=shape).astype(dtype)
        self.input_size, self.hidden_size, self.output_size = D, H, K

    @classmethod
    def from_params(cls, params):
        """A model around existing parameters, shared, not copied (``model.params is params``).

        ``params``: ``{W (H, D), U (H, H), b (H,), V (K, H), b_y (K,)}`` of one float
        dtype; the sizes D, H, K are read from the shapes.
        """
        keys = {"W", "U", "b", "V", "b_y"}
        if not isinstance(params, dict) or set(params) != keys:
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise TypeError(f"params: expected a dict with keys {sorted(keys)}, got {got}")
        W = v.check_float_array("params['W']", params["W"], (None, None))
        H, D = W.shape
        K = v.check_float_array("params['V']", params["V"], (None, H)).shape[0]
        for name, shape in (("U", (H, H)), ("b", (H,)), ("b_y", (K,))):
            v.check_float_array(f"params[{name!r}]", params[name], shape)
        v.check_same_dtype(**{f"params[{k!r}]": params[k] for k in ("W", "U", "b", "V", "b_y")})
        model = cls.__new__(cls)
        model.params = params
        model.input_size, model.hidden_size, model.output_size = D, H, K
        return model

    def forward(self, x, h0=None):
        """Scores for every step. x: (B, T) ids in [0, D); h0: (B, H) or None.

        Returns ``logits`` (B, T, K) and a cache holding ``h_last`` (B, H), the state
        after the last step.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        v.check_ids("x", x, (None, None), self.input_size)
        p = self.params
        hs, rnn_cache = rnn_forward(x, h0, p["W"], p["U"], p["b"])
        logits, out_cache = affine_forward(hs, p["V"], p["b_y"])
        return logits, {"rnn": rnn_cache, "out": out_cache, "h_last": hs[:, -1].copy()}

    def backward(self, dlogits, cache, truncate=None, chunk=None):
        """Gradients under the keys of ``params`` from ``dlogits`` (B, T, K).

        ``truncate`` and ``chunk`` are those of ``rnn_backward``.

        Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
        """
        g_out = affine_backward(dlogits, cache["out"])
        g_rnn = rnn_backward(g_out["dh"], cache["rnn"], truncate=truncate, chunk=chunk)
        return {"W": g_rnn["dW"], "U": g_rnn["dU"], "b": g_rnn["db"],
                "V": g_out["dV"], "b_y": g_out["db_y"]}

    def loss(self, x, y, h0=None, mask=None, reduction="sum", truncate=None, chunk=None):
        """Loss, gradients and final state for ids x (B, T) and targets y (B, T).

        Returns ``(loss, grads, h_last)``; ``grads`` has the keys of ``params``;
        ``h_last`` (B, H) is the state after step T-1 (padded steps included). Pass it
        as ``h0`` of the next chunk to train statefully (truncated BPTT across calls).

        Derived in: Chapter 2, Loss (book/02_loss.ipynb)
        """
        logits, cache = self.forward(x, h0)
        v.check_ids("y", y, x.shape, self.output_size)
        loss, dlogits = sequence_cross_entropy(logits, y, mask=mask, reduction=reduction)
        grads = self.backward(dlogits, cache, truncate=truncate, chunk=chunk)
        return loss, grads, cache["h_last"]

    def predict(self, x, h0=None):
        """Probabilities (B, T, K) of each class at each step (the source's missing method).

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        logits, _ = self.forward(x, h0)
        return softmax(logits)

    def sample(self, seed_ids, n, rng=None, *, temperature=1.0, greedy=False, h0=None):
        """Generate ``n`` ids after reading ``seed_ids`` (B, T0); returns (B, n) int64.

        Each new id is drawn from softmax(z / temperature) with ``rng`` (a Generator or
        int seed), or is the arg max when ``greedy=True`` (then rng may be None), and is
        fed back as the next input; this needs output_size == input_size.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        if self.output_size != self.input_size:
            raise ValueError(
                f"output_size: expected equal to input_size ({self.input_size}) to feed "
                f"samples back, got {self.output_size}"
            )
        n = v.check_positive_int("n", n, allow_zero=True)
        temperature = v.check_positive_float("temperature", temperature)
        if not greedy:
            rng = v.as_generator(rng)
        p = self.params
        logits, cache = self.forward(seed_ids, h0)
        z, h = logits[:, -1], cache["h_last"]
        out = np.empty((seed_ids.shape[0], n), dtype=np.int64)
        for i in range(n):
            if greedy:
                ids = z.argmax(axis=-1)
            else:
                cdf = np.cumsum(softmax(z / temperature), axis=-1)
                u = rng.random((z.shape[0], 1)) * cdf[:, -1:]
                ids = np.minimum((cdf < u).sum(axis=-1), z.shape[-1] - 1)  # inverse cdf
            out[:, i] = ids
            h, _ = rnn_step_forward(ids, h, p["W"], p["U"], p["b"])
            z, _ = affine_forward(h, p["V"], p["b_y"])
        return out
