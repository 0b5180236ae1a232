"""Sequence structures beyond many-to-many: a classifier and an encoder-decoder, whose
``params`` and gradients are dicts under the same keys, like ``RNNLanguageModel``'s.

Variable-length inputs are right-padded to a length T and described by ``lengths`` (B,)
in [1, T]: a sequence's last state is its state after step ``lengths[i] - 1``, and the
padded steps after it receive no gradient.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_generator, check_float_array, check_ids, check_inputs, check_positive_int
from .layers import affine_backward, affine_forward
from .loss import sequence_cross_entropy, softmax
from .models import LM_PARAM_NAMES, RNNLanguageModel, check_one_or_batch, init_lm_params, lm_grads
from .rnn import rnn_backward, rnn_forward


def _check_lengths(name, lengths, B, T):
    """None, or an integer array (B,) with every entry in [1, T]; returned unchanged."""
    if lengths is not None:
        check_ids(name, lengths, (B,), None)
        if lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"{name}: expected lengths in [1, {T}] (the padded length), "
                             f"got values from {lengths.min()} to {lengths.max()}")
    return lengths


def _last_states(hs, lengths):
    """hs (B, T, H) -> (B, H), a copy: each sequence's state after step T-1, or lengths-1."""
    B, T, _ = hs.shape
    return hs[np.arange(B), T - 1 if lengths is None else lengths - 1]


def _scatter_last(dh_last, shape, lengths):
    """The gradient dhs (B, T, H) of ``_last_states``: dh_last at last steps, else 0."""
    B, T, _ = shape
    dhs = np.zeros(shape, dtype=dh_last.dtype)
    dhs[np.arange(B), T - 1 if lengths is None else lengths - 1] = dh_last
    return dhs


class RNNClassifier:
    """Many-to-one RNN: ``h_t = tanh(W x_t + U h_{t-1} + b)``, ``h_0 = 0``, then
    ``p = softmax(V h_last + b_y)``.

    ``params``: ``{W (H, D), U (H, H), b (H,), V (C, H), b_y (C,)}``, initialised as
    ``RNNLanguageModel(D, H, C)``'s (``init_scale`` as there). x: (B, T) ids in [0, D) or
    (B, T, D) floats. ``h_last`` is the state after step T-1, or after ``lengths[i] - 1``
    (the padding must still be valid ids or finite floats).

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """

    def __init__(self, input_size, hidden_size, num_classes, *, rng, dtype=np.float64,
                 init_scale=None):
        C = check_positive_int("num_classes", num_classes)
        self.params = init_lm_params(input_size, hidden_size, C, rng=rng, dtype=dtype,
                                     init_scale=init_scale)
        self.hidden_size, self.input_size = self.params["W"].shape
        self.num_classes = C

    def forward(self, x, lengths=None):
        """Class scores of every sequence.

        x: (B, T) ids or (B, T, D) floats; lengths: (B,) integers in [1, T] or None.
        Returns ``logits`` (B, C) and a cache for ``backward``; ``cache["h_last"]``
        is the (B, H) state the scores were computed from.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        p = self.params
        hs, rnn_cache = rnn_forward(x, None, p["W"], p["U"], p["b"])
        lengths = _check_lengths("lengths", lengths, *x.shape[:2])
        h_last = _last_states(hs, lengths)
        logits, out_cache = affine_forward(h_last, p["V"], p["b_y"])  # z = V h_last + b_y
        cache = {"rnn": rnn_cache, "out": out_cache, "h_last": h_last.copy(),
                 "lengths": lengths, "hs_shape": hs.shape}
        return logits, cache

    def backward(self, dlogits, cache):
        """Gradients under the keys of ``params`` from ``dlogits`` (B, C).

        The gradient enters the recurrence only at each sequence's last step and
        flows back from there through full BPTT.

        Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
        """
        check_float_array("dlogits", dlogits, (cache["hs_shape"][0], self.num_classes))
        g_out = affine_backward(dlogits, cache["out"])
        dhs = _scatter_last(g_out["dh"], cache["hs_shape"], cache["lengths"])  # dL/dh_t
        g_rnn = rnn_backward(dhs, cache["rnn"])
        return lm_grads(g_rnn, g_out)

    def loss(self, x, y, lengths=None, reduction="mean"):
        """Cross-entropy of the labels y (B,) integers in [0, C), and its gradients.

        ``reduction='mean'`` averages ``-log p(y_i)`` over the batch, ``'sum'`` adds it.
        Returns ``(loss, grads)``; ``grads`` has the keys of ``params``.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        logits, cache = self.forward(x, lengths)
        check_ids("y", y, (x.shape[0],), self.num_classes)
        # One label per sequence is a sequence loss over a single step.
        loss, dlogits = sequence_cross_entropy(logits[:, None], y[:, None],
                                               reduction=reduction)
        return loss, self.backward(dlogits[:, 0], cache)

    def predict(self, x, lengths=None):
        """Class probabilities (B, C) of every sequence.

        One sequence, x (T,) ids or (T, D) floats (lengths None), gives (C,).

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        x, _, one = check_one_or_batch("x", x, self.input_size)
        if one and lengths is not None:
            raise ValueError(f"lengths: expected None for one sequence x, got {lengths!r}")
        logits, _ = self.forward(x, lengths)
        p = softmax(logits)
        return p[0] if one else p


class Seq2Seq:
    """Encoder-decoder: the encoder's last state ``c`` starts a next-token decoder::

        encoder:  e_t = tanh(W_e x_t + U_e e_{t-1} + b_e),  e_0 = 0,   c = e_last
        decoder:  h_0 = c,  h_t = tanh(W_d y_{t-1} + U_d h_{t-1} + b_d),  p(y_t) = softmax(V_d h_t + b_y)

    ``params``: ``enc_W`` (H, S), ``enc_U`` (H, H), ``enc_b`` (H,), ``dec_W`` (H, K), ``dec_U``
    (H, H), ``dec_b`` (H,), ``dec_V`` (K, H), ``dec_b_y`` (K,); S = ``src_size`` (source ids or
    features), K = ``tgt_vocab`` (start and end tokens included), each part initialised as
    ``RNNLanguageModel``'s. Training uses teacher forcing (``tgt_in`` is the target shifted right
    behind a start token); ``greedy_decode`` feeds the decoder's own outputs back.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """

    def __init__(self, src_size, tgt_vocab, hidden_size, *, rng, dtype=np.float64,
                 init_scale=None):
        S = check_positive_int("src_size", src_size)
        K = check_positive_int("tgt_vocab", tgt_vocab)
        H = check_positive_int("hidden_size", hidden_size)
        rng = as_generator(rng)
        # Each part is drawn as a language model's parameters (encoder: V, b_y unused).
        enc = init_lm_params(S, H, 1, rng=rng, dtype=dtype, init_scale=init_scale)
        dec = init_lm_params(K, H, K, rng=rng, dtype=dtype, init_scale=init_scale)
        self.params = {f"enc_{k}": enc[k] for k in ("W", "U", "b")}
        self.params.update({f"dec_{k}": dec[k] for k in LM_PARAM_NAMES})
        self.src_size, self.tgt_vocab, self.hidden_size = S, K, H

    @property
    def decoder(self):
        """The decoder as an ``RNNLanguageModel`` sharing this model's ``dec_*`` arrays."""
        return RNNLanguageModel.from_params({k: self.params[f"dec_{k}"] for k in LM_PARAM_NAMES})

    def encode(self, src, src_lengths=None):
        """The encoder's last hidden state (B, H): the decoder's initial state.

        src: (B, S_len) ids in [0, S) or (B, S_len, S) floats; src_lengths: (B,) in
        [1, S_len] or None. Returns ``(h_last, cache)``.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        check_inputs("src", src, (None, None), self.src_size)
        p = self.params
        hs, rnn_cache = rnn_forward(src, None, p["enc_W"], p["enc_U"], p["enc_b"])
        src_lengths = _check_lengths("src_lengths", src_lengths, *src.shape[:2])
        cache = {"rnn": rnn_cache, "lengths": src_lengths, "hs_shape": hs.shape}
        return _last_states(hs, src_lengths), cache

    def forward(self, src, tgt_in, src_lengths=None):
        """Scores of every target step under teacher forcing.

        tgt_in: (B, T) target ids in [0, K) (start token, then the target shifted
        right). Returns ``logits`` (B, T, K) and a cache for ``backward``;
        ``cache["context"]`` is the encoder's last state (B, H).

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        context, enc_cache = self.encode(src, src_lengths)
        check_ids("tgt_in", tgt_in, (src.shape[0], None), self.tgt_vocab)
        p = self.params
        hs, dec_cache = rnn_forward(tgt_in, context, p["dec_W"], p["dec_U"], p["dec_b"])  # h_0 = c
        logits, out_cache = affine_forward(hs, p["dec_V"], p["dec_b_y"])
        cache = {"enc": enc_cache, "dec": dec_cache, "out": out_cache,
                 "context": context.copy()}
        return logits, cache

    def backward(self, dlogits, cache):
        """Gradients of every parameter (``enc_*``, ``dec_*``) from ``dlogits`` (B, T, K).

        The decoder's gradient with respect to its initial state, ``dh0``, is the
        gradient of the encoder's last state: it enters the encoder there.

        Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
        """
        g_out = affine_backward(dlogits, cache["out"])
        g_dec = rnn_backward(g_out["dh"], cache["dec"])
        enc = cache["enc"]
        dhs = _scatter_last(g_dec["dh0"], enc["hs_shape"], enc["lengths"])  # dL/dc
        g_enc = rnn_backward(dhs, enc["rnn"])
        grads = {"enc_W": g_enc["dW"], "enc_U": g_enc["dU"], "enc_b": g_enc["db"]}
        grads.update({f"dec_{k}": g for k, g in lm_grads(g_dec, g_out).items()})
        return grads

    def loss(self, src, tgt_in, tgt_out, mask=None, reduction="sum", src_lengths=None):
        """Teacher-forced cross-entropy of ``tgt_out`` (B, T) ids, and its gradients.

        mask (B, T) and ``reduction`` ('sum' or 'mean', over unmasked steps) are those of
        ``sequence_cross_entropy``. Returns ``(loss, grads)`` with the keys of ``params``.

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        logits, cache = self.forward(src, tgt_in, src_lengths)
        check_ids("tgt_out", tgt_out, tgt_in.shape, self.tgt_vocab)
        loss, dlogits = sequence_cross_entropy(logits, tgt_out, mask=mask,
                                               reduction=reduction)
        return loss, self.backward(dlogits, cache)

    def greedy_decode(self, src, start_id, max_len, src_lengths=None, end_id=None):
        """Generate (B, max_len) int64 ids: encode, then feed back the decoder's argmax.

        The decoder reads ``start_id`` and then each id it produced (``RNNLanguageModel.sample``,
        ``greedy=True``). With ``end_id``, every position after a sequence's first ``end_id`` is
        ``end_id``. One source sequence, src (S_len,) ids or (S_len, S) floats (src_lengths None),
        gives (max_len,).

        Derived in: Chapter 1, Structure (book/01_structure.ipynb)
        """
        for name, token in (("start_id", start_id), ("end_id", end_id)):
            if token is not None:
                check_positive_int(name, token, allow_zero=True)
                if token >= self.tgt_vocab:
                    raise ValueError(f"{name}: expected an id in [0, {self.tgt_vocab}), "
                                     f"got {token}")
        max_len = check_positive_int("max_len", max_len, allow_zero=True)
        src, _, one = check_one_or_batch("src", src, self.src_size)
        if one and src_lengths is not None:
            raise ValueError(f"src_lengths: expected None for one source sequence, got {src_lengths!r}")
        context, _ = self.encode(src, src_lengths)
        start = np.full((src.shape[0], 1), start_id, dtype=np.int64)
        out = self.decoder.sample(start, max_len, greedy=True, h0=context)
        if end_id is not None:
            out[np.cumsum(out == end_id, axis=1) > 0] = end_id  # first end_id onwards
        return out[0] if one else out
