"""Softmax and the cross-entropy loss of a sequence, summed (or averaged) over time."""

from __future__ import annotations

import numpy as np

from . import _validate as v


def log_softmax(z):
    """``log softmax(z)`` over the last axis, computed stably (z shifted by its max).

    z: (K,), (B, K) or (B, T, K) finite floats; returns the same shape and dtype.
    Scores of 1e4 give finite results.

    Derived in: Chapter 2, Loss (book/02_loss.ipynb)
    """
    v.check_float_any_rank("z", z, (1, 2, 3))
    shifted = z - z.max(axis=-1, keepdims=True)  # largest score 0: exp cannot overflow
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax(z):
    """Probabilities ``exp(z) / sum(exp(z))`` over the last axis.

    z: (K,), (B, K) or (B, T, K) scores; returns the same shape and dtype.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    return np.exp(log_softmax(z))


def sequence_cross_entropy(logits, targets, mask=None, reduction="sum"):
    """Cross-entropy of every step's scores against its target id.

    logits: (B, T, K) scores (before softmax); targets: (B, T) integer ids in [0, K);
    mask: optional (B, T) bools or 0/1, where 0 marks a padded step (zero loss and
    zero gradient; its target must still be a valid id). ``reduction='sum'`` adds
    ``-log p(target)`` over all unmasked steps, as the source's code does;
    ``'mean'`` divides that sum by the number of unmasked steps.
    Returns ``(loss, dlogits)``: a scalar of the logits' dtype and (B, T, K).

    Derived in: Chapter 2, Loss (book/02_loss.ipynb)
    """
    v.check_float_array("logits", logits, (None, None, None))
    v.check_nonempty_time("logits", logits)
    B, T, K = logits.shape
    v.check_ids("targets", targets, (B, T), K)
    v.check_choice("reduction", reduction, ("sum", "mean"))
    if mask is None:
        keep = np.ones((B, T), dtype=bool)
    else:
        keep = v.check_mask("mask", mask, (B, T))
    count = int(keep.sum())
    if reduction == "mean" and count == 0:
        raise ValueError("mask: expected at least one unmasked step for "
                         "reduction='mean', got none")

    weight = keep.astype(logits.dtype)
    if reduction == "mean":
        weight = weight / count
    logp = log_softmax(logits)
    b, t = np.indices((B, T))
    loss = -(logp[b, t, targets] * weight).sum()
    dlogits = np.exp(logp, out=logp)  # softmax, in the fresh array log_softmax returned
    dlogits[b, t, targets] -= 1  # d(-log p_y)/dz = p - onehot(y)
    if mask is not None or reduction == "mean":  # otherwise every weight is 1
        dlogits *= weight[..., None]
    return loss, dlogits
