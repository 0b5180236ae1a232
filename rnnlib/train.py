"""Training loops: a stateful character language model (chunked truncated BPTT) and
minibatch training of any model with ``.params`` and ``.loss``; their evaluations.

numpy only (``tqdm`` is imported only when a progress bar is asked for).
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v
from .data import iter_chunks, num_chunks
from .loss import log_softmax
from .optim import clip_by_global_norm, global_norm


def _progress_bar(progress, total, desc):
    """None/False: no bar; True: a tqdm bar; a callable: called as progress(step, info)."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, leave=False), None
    if callable(progress):
        return None, progress
    raise TypeError(f"progress: expected None, a bool or a callable, got {type(progress).__name__}")


def _check_optimizer(optimizer):
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer: expected an object with a step(params, grads) method, got "
                        f"{type(optimizer).__name__}")


def train_language_model(model, streams, *, seq_len, optimizer, steps, max_norm=None,
                         val_streams=None, eval_every=None, progress=None):
    """Train ``model`` on parallel streams with carried state: chunked truncated BPTT.

    model: an ``RNNLanguageModel`` (anything with ``params``, ``hidden_size`` and
    ``loss(x, y, h0=...) -> (loss, grads, h_last)``); streams: (B, L) ids from
    ``batchify``; seq_len: T, the chunk length (the gradient flows back at most T
    steps); optimizer: ``SGD``/``Adagrad`` (``step(params, grads)``); steps: the number
    of updates; max_norm: clip the gradient to this global norm (None: no clipping).

    Each update reads the next chunk (B, T) of every stream, starting from the hidden
    state the previous chunk ended with (zeros at the start of each pass over the
    streams), and minimises the loss summed over the T steps and averaged over the B
    streams. The state is carried forward but no gradient flows back across a chunk
    boundary. Short last chunks are skipped, so every update sees T steps.

    With ``val_streams`` and ``eval_every``, the validation bits per character
    (``bits_per_char``) are measured every ``eval_every`` updates and after the last.
    The loop draws no random numbers: the model's initial parameters, set by its
    ``rng``, and the data decide every result. ``progress``: None (silent, the
    default), True (a tqdm bar, for interactive use) or a callable
    ``progress(step, info)``, called after each update with the update's number
    (from 1) and a dict holding its ``loss`` (and ``val_bpc`` after an evaluation).

    Returns a dict of arrays: ``loss`` (steps,) the training loss of each update
    (nats per T characters of a stream, before the update), ``grad_norm`` (steps,)
    the global norm before clipping, and ``val_step``, ``val_bpc`` (the evaluations).

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("streams", streams, (None, None), model.input_size)
    T = v.check_positive_int("seq_len", seq_len)
    steps = v.check_positive_int("steps", steps)
    _check_optimizer(optimizer)
    if max_norm is not None:
        max_norm = v.check_positive_float("max_norm", max_norm)
    if val_streams is not None:
        v.check_ids("val_streams", val_streams, (None, None), model.input_size)
        every = steps if eval_every is None else eval_every
        eval_every = v.check_positive_int("eval_every", every)
    if num_chunks(streams, T, drop_last=True) == 0:
        raise ValueError(f"streams: expected more than seq_len = {T} columns, "
                         f"got shape {streams.shape}")
    B = streams.shape[0]
    dtype = model.params["W"].dtype
    bar, callback = _progress_bar(progress, steps, "training")

    losses, norms, val_step, val_bpc = [], [], [], []
    step = 0
    try:
        while step < steps:
            h = np.zeros((B, model.hidden_size), dtype=dtype)  # a new pass over the text
            for x, y in iter_chunks(streams, T, drop_last=True):
                loss, grads, h = model.loss(x, y, h0=h, reduction="sum")
                grads = {k: g / B for k, g in grads.items()}
                norm = _clip_and_step(optimizer, model.params, grads, max_norm)
                losses.append(float(loss) / B)
                norms.append(norm)
                step += 1
                info = {"loss": losses[-1]}
                if val_streams is not None and (step % eval_every == 0 or step == steps):
                    val_step.append(step)
                    val_bpc.append(bits_per_char(model, val_streams))
                    info["val_bpc"] = val_bpc[-1]
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: round(val, 3) for k, val in info.items()})
                if callback is not None:
                    callback(step, info)
                if step == steps:
                    break
    finally:
        if bar is not None:
            bar.close()
    return {"loss": np.array(losses), "grad_norm": np.array(norms),
            "val_step": np.array(val_step, dtype=np.int64), "val_bpc": np.array(val_bpc)}


def _clip_and_step(optimizer, params, grads, max_norm):
    """Clip ``grads`` by global norm (unless ``max_norm`` is None) and update ``params``.

    Returns the norm before clipping.
    """
    if max_norm is None:
        norm = global_norm(grads)
    else:
        grads, norm = clip_by_global_norm(grads, max_norm)
    optimizer.step(params, grads)
    return norm


def bits_per_char(model, streams, *, seq_len=100):
    """Mean cross-entropy of ``model`` on every next character of ``streams``, in bits.

    streams: (B, L) ids (``batchify`` of held-out text). The model reads each stream
    from a zero state to its end in chunks of ``seq_len``, carrying its state, and
    predicts each of the B (L - 1) targets once; the result is
    ``sum(-log p(target)) / (B (L - 1)) / ln 2``. A uniform guess over K characters
    scores log2 K; ``unigram_bits_per_char`` is the baseline to beat.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("streams", streams, (None, None), model.input_size)
    T = v.check_positive_int("seq_len", seq_len)
    B = streams.shape[0]
    h = np.zeros((B, model.hidden_size), dtype=model.params["W"].dtype)
    total, count = 0.0, 0
    for x, y in iter_chunks(streams, T):
        logits, cache = model.forward(x, h)
        h = cache["h_last"]
        logp = log_softmax(logits)
        total -= float(np.take_along_axis(logp, y[..., None], axis=-1).sum())
        count += y.size
    return total / count / math.log(2)


def unigram_bits_per_char(train_ids, eval_ids, vocab_size, *, alpha=1.0):
    """Bits per character of the best context-free guess: character frequencies.

    p(c) = (count of c in ``train_ids`` + alpha) / (N + alpha K) (add-alpha smoothing,
    so a character unseen in training still has p > 0); returns the mean of
    -log2 p(c) over ``eval_ids``. A language model that has learned anything about
    context must score below this.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    K = v.check_positive_int("vocab_size", vocab_size)
    v.check_ids("train_ids", np.asarray(train_ids).reshape(-1), (None,), K)
    v.check_ids("eval_ids", np.asarray(eval_ids).reshape(-1), (None,), K)
    alpha = v.check_positive_float("alpha", alpha)
    counts = np.bincount(np.asarray(train_ids).reshape(-1), minlength=K) + alpha
    logp = np.log2(counts / counts.sum())
    return float(-logp[np.asarray(eval_ids).reshape(-1)].mean())


def train_minibatches(model, data, *, optimizer, steps, batch_size, rng, max_norm=None, loss_kwargs=None,
                      progress=None):
    """Train ``model`` on minibatches drawn from ``data`` without replacement, epoch by epoch.

    model: anything with a ``params`` dict and ``loss(**batch) -> (loss, grads, ...)``
    where ``grads`` has the keys of ``params`` (``RNNClassifier``, ``Seq2Seq``);
    data: a dict of arrays with the same first dimension N (the examples), named as
    the arguments of ``model.loss`` (``{"x": ..., "y": ...}`` for a classifier), sliced
    together; loss_kwargs: further keyword arguments for every call (for example
    ``{"reduction": "mean"}``); steps: the number of updates; batch_size: rows per
    update (an epoch's last, smaller batch is skipped); rng: a Generator or int seed
    that shuffles the rows at the start of each epoch; max_norm: global-norm clipping
    (None: none); progress: None, True or a callable ``progress(step, info)`` as in
    ``train_language_model``, called after each update (``info`` holds its ``loss``).

    Returns a dict: ``loss`` (steps,) the loss of each minibatch before its update,
    ``grad_norm`` (steps,) the global norm before clipping.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    if not isinstance(data, dict) or not data:
        raise TypeError(f"data: expected a non-empty dict of numpy arrays, got {type(data).__name__}")
    N = None
    for key, a in data.items():
        if not isinstance(a, np.ndarray) or a.ndim == 0:
            raise TypeError(f"data[{key!r}]: expected a numpy array with a first (example) axis, got "
                            f"{type(a).__name__}")
        if N is None:
            N, first = a.shape[0], key
        elif a.shape[0] != N:
            raise ValueError(f"data[{key!r}]: expected {N} rows like data[{first!r}], got shape {a.shape}")
    loss_kwargs = {} if loss_kwargs is None else dict(loss_kwargs)
    _check_optimizer(optimizer)
    steps = v.check_positive_int("steps", steps)
    batch_size = v.check_positive_int("batch_size", batch_size)
    if batch_size > N:
        raise ValueError(f"batch_size: expected at most the {N} examples of data, got {batch_size}")
    rng = v.as_generator(rng)
    if max_norm is not None:
        max_norm = v.check_positive_float("max_norm", max_norm)
    bar, callback = _progress_bar(progress, steps, "training")

    losses, norms = [], []
    try:
        while len(losses) < steps:
            order = rng.permutation(N)
            for start in range(0, N - batch_size + 1, batch_size):
                rows = order[start : start + batch_size]
                out = model.loss(**{k: a[rows] for k, a in data.items()}, **loss_kwargs)
                loss, grads = out[0], out[1]
                norm = _clip_and_step(optimizer, model.params, grads, max_norm)
                losses.append(float(loss))
                norms.append(norm)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=round(losses[-1], 3))
                if callback is not None:
                    callback(len(losses), {"loss": losses[-1]})
                if len(losses) == steps:
                    break
    finally:
        if bar is not None:
            bar.close()
    return {"loss": np.array(losses), "grad_norm": np.array(norms)}


def seq2seq_exact_match(model, src, tgt_out, mask, *, start_id, end_id, src_lengths=None):
    """Which outputs a ``Seq2Seq`` decodes exactly right, greedily (no teacher forcing).

    src: (N, S_len) source ids; tgt_out: (N, T) target ids ending with ``end_id``;
    mask: (N, T) bools, True on the real target steps (the end token included).
    The model generates T ids with ``greedy_decode`` from ``start_id``; an example is
    an exact match when every masked-in step is right (so the end token must come
    where it should). Returns (N,) bools; ``.mean()`` is the exact-match accuracy.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("tgt_out", tgt_out, (None, None), None)
    keep = v.check_mask("mask", mask, tgt_out.shape)
    if not isinstance(src, np.ndarray) or src.shape[0] != tgt_out.shape[0]:
        raise ValueError(f"src: expected {tgt_out.shape[0]} rows like tgt_out, "
                         f"got {v._describe(src)}")
    out = model.greedy_decode(src, start_id, tgt_out.shape[1], src_lengths=src_lengths,
                              end_id=end_id)
    return np.all((out == tgt_out) | ~keep, axis=1)
