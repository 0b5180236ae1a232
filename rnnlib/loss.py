"""Softmax and the cross-entropy loss of a sequence, summed (or averaged) over time."""

from __future__ import annotations

import numpy as np

from ._validate import check_float_any_rank, check_loss_args


def log_softmax(z):
    """log softmax(z) over the last axis, computed stably: scores of 1e4 stay finite.

    z: (K,), (B, K) or (B, T, K) finite floats; returns the same shape and dtype.

    Derived in: Chapter 2, Loss (book/02_loss.ipynb)
    """
    check_float_any_rank("z", z, (1, 2, 3))
    shifted = z - z.max(axis=-1, keepdims=True)  # largest score 0: exp cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z):
    """Probabilities exp(z) / sum(exp(z)) over the last axis; z as for ``log_softmax``.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    return np.exp(log_softmax(z))


def sequence_cross_entropy(logits, targets, mask=None, reduction="sum"):
    """Cross-entropy of every step's scores against its target id.

    logits: (B, T, K) scores (before softmax); targets: (B, T) ids in [0, K); mask:
    None or (B, T) bools or 0/1, 0 at a padded step (zero loss and gradient; its
    target must still be a valid id). ``reduction='sum'`` adds -log p(target) over
    the unmasked steps, as the source does; ``'mean'`` divides by their number.
    Returns (loss, dlogits): a scalar of the logits' dtype and (B, T, K).

    Derived in: Chapter 2, Loss (book/02_loss.ipynb)
    """
    B, T, K = check_loss_args(logits, targets, mask, reduction)
    keep = np.ones((B, T), dtype=bool) if mask is None else mask.astype(bool)  # 0: padded
    weight = keep.astype(logits.dtype)
    if reduction == "mean":
        weight = weight / weight.sum()
    logp = log_softmax(logits)
    b, t = np.indices((B, T))
    loss = -(logp[b, t, targets] * weight).sum()  # -sum of log p(y_t) over the steps
    dlogits = np.exp(logp)  # the probabilities p
    dlogits[b, t, targets] -= 1  # d(-log p_y)/dz = p - onehot(y)
    dlogits *= weight[..., None]
    return loss, dlogits
