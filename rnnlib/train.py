"""Training loops: a stateful character language model (chunked truncated BPTT) and
minibatch training of any model with ``.params`` and ``.loss``; their evaluations.

numpy only (``tqdm`` is imported only when a progress bar is asked for).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_generator, check_ids, check_inputs, check_mask, check_positive_float, check_positive_int
from .data import iter_chunks, num_chunks
from .loss import log_softmax
from .optim import clip_by_global_norm, global_norm


def train_language_model(model, streams, *, seq_len, optimizer, steps, max_norm=None,
                         val_streams=None, eval_every=None, progress=None):
    """Train ``model`` on parallel streams with carried state: chunked truncated BPTT.

    model: an ``RNNLanguageModel`` (anything with ``params``, ``hidden_size`` and
    ``loss(x, y, h0=...) -> (loss, grads, h_last)``); streams: (B, L) ids from
    ``batchify``; seq_len: T, the chunk length; optimizer: ``SGD``/``Adagrad``;
    steps: the number of updates; max_norm: clip the gradient to this global norm
    (None: no clipping). Each update reads the next chunk (B, T) of every stream from
    the state the previous chunk ended with (zeros at the start of each pass), and
    minimises the loss summed over the T steps and averaged over the B streams; no
    gradient crosses a chunk boundary, and a short last chunk is skipped.

    With ``val_streams``, ``bits_per_char`` is measured every ``eval_every`` updates
    and after the last. ``progress``: None (silent), True (a tqdm bar) or a callable
    ``progress(step, info)``, called after each update with ``info`` holding its
    ``loss`` (and ``val_bpc`` after an evaluation). A loss that is not finite stops
    the loop with a ``ValueError``. The loop draws no random numbers.

    Returns a dict of arrays: ``loss`` (steps,), each update's loss before it (nats per
    T characters of a stream), ``grad_norm`` (steps,), the norm before clipping, and
    ``val_step``, ``val_bpc``, the evaluations.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    B, T, eval_every, report = _check_lm_training(model, streams, seq_len, optimizer, steps,
                                                  max_norm, val_streams, eval_every,
                                                  progress)
    history = {"loss": [], "grad_norm": [], "val_step": [], "val_bpc": []}
    step = 0
    while step < steps:
        # each pass over the text starts from h_0 = 0; then h is carried from chunk to chunk
        h = np.zeros((B, model.hidden_size), dtype=model.params["W"].dtype)
        for x, y in iter_chunks(streams, T, drop_last=True):
            loss, grads, h = model.loss(x, y, h0=h, reduction="sum")  # B x eq-06-chunk-loss
            step += 1
            _check_loss(loss, step)
            grads = {k: g / B for k, g in grads.items()}  # the mean over the B streams
            if max_norm is None:
                norm = global_norm(grads)
            else:
                grads, norm = clip_by_global_norm(grads, max_norm)  # eq-06-clip
            optimizer.step(model.params, grads)  # one update (SGD: theta <- theta - eta g)
            history["loss"].append(float(loss) / B)
            history["grad_norm"].append(norm)
            info = {"loss": history["loss"][-1]}
            if val_streams is not None and (step % eval_every == 0 or step == steps):
                info["val_bpc"] = bits_per_char(model, val_streams)
                history["val_step"].append(step)
                history["val_bpc"].append(info["val_bpc"])
            if report:
                report(step, info)
            if step == steps:
                break
    return {k: np.array(a, dtype=np.int64 if k == "val_step" else np.float64)
            for k, a in history.items()}


def bits_per_char(model, streams, *, seq_len=100):
    """Mean cross-entropy of ``model`` on every next character of ``streams``, in bits.

    streams: (B, L) ids (``batchify`` of held-out text). The model reads each stream
    from a zero state to its end in chunks of ``seq_len``, carrying its state, and
    predicts each of the B (L - 1) targets once; the result is
    ``sum(-log p(target)) / (B (L - 1)) / ln 2``. A uniform guess over K characters
    scores log2 K; ``unigram_bits_per_char`` is the baseline to beat.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("streams", streams, (None, None), model.input_size)
    T = check_positive_int("seq_len", seq_len)
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
    """Bits per character of character frequencies, the best context-free guess.

    p(c) = (count of c in ``train_ids`` + alpha) / (N + alpha K) (add-alpha smoothing keeps
    unseen characters possible); returns the mean of -log2 p(c) over ``eval_ids``.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    K = check_positive_int("vocab_size", vocab_size)
    check_ids("train_ids", np.asarray(train_ids).reshape(-1), (None,), K)
    check_ids("eval_ids", np.asarray(eval_ids).reshape(-1), (None,), K)
    alpha = check_positive_float("alpha", alpha)
    counts = np.bincount(np.asarray(train_ids).reshape(-1), minlength=K) + alpha
    logp = np.log2(counts / counts.sum())
    return float(-logp[np.asarray(eval_ids).reshape(-1)].mean())


def train_minibatches(model, data, *, optimizer, steps, batch_size, rng, max_norm=None, loss_kwargs=None,
                      progress=None):
    """Train ``model`` on minibatches of ``data`` drawn without replacement, epoch by epoch.

    model: a ``params`` dict and ``loss(**batch) -> (loss, grads, ...)`` (``RNNClassifier``,
    ``Seq2Seq``); data: a dict of arrays with N rows, named as ``model.loss``'s arguments and
    sliced together; loss_kwargs: more arguments for every call (e.g. ``{"reduction": "mean"}``);
    batch_size: rows per update (an epoch's short last batch is skipped); rng: a Generator or
    int seed shuffling each epoch; max_norm and progress as in ``train_language_model``.
    Returns ``loss`` (steps,), each minibatch's loss before its update, and ``grad_norm`` (steps,),
    the global norm before clipping.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    N, rng, report = _check_minibatch_training(data, optimizer, steps, batch_size, rng, max_norm, progress)
    loss_kwargs = loss_kwargs or {}
    history = {"loss": [], "grad_norm": []}
    while len(history["loss"]) < steps:
        order = rng.permutation(N)  # a new epoch: every row once, in a new order
        for start in range(0, N - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            loss, grads = model.loss(**{k: a[rows] for k, a in data.items()}, **loss_kwargs)[:2]
            step = len(history["loss"]) + 1
            _check_loss(loss, step)
            if max_norm is None:
                norm = global_norm(grads)
            else:
                grads, norm = clip_by_global_norm(grads, max_norm)
            optimizer.step(model.params, grads)
            history["loss"].append(float(loss))
            history["grad_norm"].append(norm)
            if report:
                report(step, {"loss": history["loss"][-1]})
            if step == steps:
                break
    return {k: np.array(a) for k, a in history.items()}


def seq2seq_exact_match(model, src, tgt_out, mask, *, start_id, end_id, src_lengths=None):
    """Which outputs a ``Seq2Seq`` decodes exactly right, greedily (no teacher forcing).

    src: (N, S_len) source ids; tgt_out: (N, T) target ids ending with ``end_id``;
    mask: (N, T) bools, True on the real target steps (the end token included).
    The model generates T ids with ``greedy_decode`` from ``start_id``; an example is
    an exact match when every masked-in step is right (so the end token must come
    where it should). Returns (N,) bools; ``.mean()`` is the exact-match accuracy.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("tgt_out", tgt_out, (None, None), None)
    keep = check_mask("mask", mask, tgt_out.shape)
    check_inputs("src", src, (tgt_out.shape[0], None), None)  # one source per target
    out = model.greedy_decode(src, start_id, tgt_out.shape[1], src_lengths=src_lengths,
                              end_id=end_id)
    return np.all((out == tgt_out) | ~keep, axis=1)


# ------------------------------------------------------------- argument checks --


def _check_loss(loss, step):
    if not np.isfinite(loss):
        raise ValueError(f"loss: expected a finite value, got {float(loss)} at step {step} "
                         "(is the learning rate too large for the model?)")


def _check_common(optimizer, steps, max_norm):
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer: expected an object with a step(params, grads) method, got "
                        f"{type(optimizer).__name__}")
    if max_norm is not None:
        check_positive_float("max_norm", max_norm)
    return check_positive_int("steps", steps)


def _reporter(progress, steps):
    """None/False: None; True: ``report(step, info)`` updating a tqdm bar; a callable: itself."""
    if progress is None or progress is False or callable(progress):
        return progress or None
    if progress is not True:
        raise TypeError(f"progress: expected None, a bool or a callable, got {type(progress).__name__}")
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc="training", leave=False)

    def report(step, info):
        bar.update(1)
        bar.set_postfix({k: round(x, 3) for k, x in info.items()})
        if step == steps:
            bar.close()

    return report


def _check_lm_training(model, streams, seq_len, optimizer, steps, max_norm, val_streams, eval_every,
                       progress):
    """train_language_model's arguments; returns B, T, eval_every and the reporter."""
    check_ids("streams", streams, (None, None), model.input_size)
    T = check_positive_int("seq_len", seq_len)
    steps = _check_common(optimizer, steps, max_norm)
    if val_streams is not None:
        check_ids("val_streams", val_streams, (None, None), model.input_size)
        eval_every = check_positive_int("eval_every", steps if eval_every is None else eval_every)
    if num_chunks(streams, T, drop_last=True) == 0:
        raise ValueError(f"streams: expected more than seq_len = {T} columns, got shape {streams.shape}")
    return streams.shape[0], T, eval_every, _reporter(progress, steps)


def _check_minibatch_training(data, optimizer, steps, batch_size, rng, max_norm, progress):
    """train_minibatches' arguments; returns N (examples), the generator and the reporter."""
    if not isinstance(data, dict) or not data:
        raise TypeError(f"data: expected a non-empty dict of numpy arrays, got {type(data).__name__}")
    first = next(iter(data))
    for key, a in data.items():
        if not isinstance(a, np.ndarray) or a.ndim == 0:
            raise TypeError(f"data[{key!r}]: expected a numpy array with a first (example) axis, got "
                            f"{type(a).__name__}")
        if a.shape[0] != data[first].shape[0]:
            raise ValueError(f"data[{key!r}]: expected {data[first].shape[0]} rows like data[{first!r}], "
                             f"got shape {a.shape}")
    N = data[first].shape[0]
    steps = _check_common(optimizer, steps, max_norm)
    if check_positive_int("batch_size", batch_size) > N:
        raise ValueError(f"batch_size: expected at most the {N} examples of data, got {batch_size}")
    return N, as_generator(rng), _reporter(progress, steps)
