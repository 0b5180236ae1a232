"""Data for training: a character corpus, its vocabulary, parallel streams and chunks,
and the seeded synthetic tasks of the many-to-one and seq2seq examples.

numpy only. Every random draw comes from a ``numpy.random.Generator`` (or an int
seed) passed in; nothing here touches global random state.
"""

from __future__ import annotations

import re

import numpy as np

from ._validate import as_generator, check_ids, check_positive_float, check_positive_int

# ------------------------------------------------------------------ corpus --


def python_docs_text():
    """English prose from the documentation that ships with Python (``pydoc_data.topics``).

    Returns one ``str``: the topics in sorted order, each cut into paragraphs; a
    paragraph with an indented line (code, grammar rules) is dropped, heading
    underlines are removed, and the lines of a paragraph are joined with spaces,
    one paragraph per line. Nothing is downloaded; the text (about 240 000
    characters for CPython 3.11) depends only on the Python version.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    from pydoc_data.topics import topics

    underline = re.compile(r"[*=\-~^]+")
    paragraphs = []
    for key in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[key]):
            lines = block.split("\n")
            if any(line.startswith(" ") for line in lines):
                continue
            kept = (line.strip() for line in lines if not underline.fullmatch(line.strip()))
            words = " ".join(kept)
            if words.strip():
                paragraphs.append(words.strip())
    return "\n".join(paragraphs)


class CharVocab:
    """A character vocabulary: ``chars``, the distinct characters of ``text`` in sorted order (never
    ``list(set(text))``, whose order changes with the hash seed), so id ``i`` is ``chars[i]`` on
    every machine; ``len(vocab)`` is K; ``encode``/``decode`` map text and id arrays.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """

    def __init__(self, text):
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text: expected at least one character, got an empty string")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"

    def encode(self, text):
        """Ids (N,) int64 of the characters of ``text`` (a str of N characters)."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"text: expected only characters of the vocabulary, got {unknown[:5]!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        """The str whose characters are ``ids``, a 1-D integer array (or list) in [0, K)."""
        ids = np.asarray(ids)
        check_ids("ids", ids, (None,), len(self))
        return "".join(self.chars[i] for i in ids)


# ------------------------------------------------------ streams and chunks --


def train_val_split(text, val_fraction):
    """Cut a text of one paragraph per line into training and validation text.

    The validation text is the last paragraphs, about ``val_fraction`` of the
    characters, cut at a paragraph boundary (no shuffling, so no validation
    character has training text on both sides of it). A validation paragraph that
    also occurs, verbatim, in the training part is dropped from the validation
    text: help pages repeat one another (the ``compound`` statement page contains
    the prose of the ``while`` and ``with`` pages), and a paragraph the model was
    trained on would not measure how it does on text it has never read. Returns two
    str ``(train, val)``, each one paragraph per line; the training part is
    everything before the cut.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    val_fraction = check_positive_float("val_fraction", val_fraction)
    if val_fraction >= 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction!r}")
    paragraphs = text.split("\n")
    if len(paragraphs) < 2:
        raise ValueError("text: expected at least two paragraphs (lines), got 1")
    ends = np.cumsum([len(p) + 1 for p in paragraphs])  # where each one ends, with "\n"
    # training: up to the first paragraph that ends past (1 - val_fraction) of the text
    cut = int(np.searchsorted(ends, (1 - val_fraction) * len(text))) + 1
    cut = min(cut, len(paragraphs) - 1)  # leave at least one paragraph for validation
    train = paragraphs[:cut]
    seen = set(train)
    val = [p for p in paragraphs[cut:] if p not in seen]
    if not val:
        raise ValueError("text: expected some validation paragraphs that training lacks, "
                         "got none")
    return "\n".join(train), "\n".join(val)


def batchify(ids, batch_size):
    """Cut one long id array into ``batch_size`` parallel streams, (B, N // B).

    Stream ``b`` is the contiguous slice ``ids[b * L:(b + 1) * L]`` with
    ``L = N // B``; the last ``N mod B`` ids are dropped. Row ``b`` of chunk after
    chunk continues the same text, so the hidden state a row ends one chunk with is
    the right initial state for that row's next chunk (stateful training, as in
    Keras' ``stateful=True`` or Karpathy's char-rnn).

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("ids", ids, (None,), None)
    B = check_positive_int("batch_size", batch_size)
    L = len(ids) // B
    if L < 2:
        raise ValueError(f"ids: expected at least 2 * batch_size = {2 * B} ids, "
                         f"got {len(ids)}")
    return ids[: B * L].reshape(B, L)


def iter_chunks(streams, seq_len, *, drop_last=False):
    """Yield ``(x, y)`` chunks of ``streams`` (B, L): x (B, T) ids, y (B, T) the next ids.

    Chunk i is ``streams[:, i*T:(i+1)*T]`` and the same columns shifted by one (T = ``seq_len``):
    every column but the first is a target once. The last chunk is shorter unless ``drop_last``.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("streams", streams, (None, None), None)
    T = check_positive_int("seq_len", seq_len)
    L = streams.shape[1]
    if L < 2:
        raise ValueError(f"streams: expected at least 2 columns (an input and its target), got shape {streams.shape}")
    for start in range(0, L - 1, T):
        stop = min(start + T, L - 1)
        if drop_last and stop - start < T:
            return
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]


def num_chunks(streams, seq_len, *, drop_last=False):
    """How many chunks ``iter_chunks(streams, seq_len, drop_last=...)`` yields.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("streams", streams, (None, None), None)
    T = check_positive_int("seq_len", seq_len)
    targets = streams.shape[1] - 1
    return targets // T if drop_last else -(-targets // T)


# ------------------------------------------------------- synthetic tasks --


def balanced_brackets(n, length, rng, *, hard_fraction=0.0, ends=3):
    """``n`` bracket strings of even ``length``, half balanced, as ids: (x (n, length), y (n,)).

    Every string has as many ``(`` (id 0) as ``)`` (id 1); it is balanced (y = 1) when no
    prefix closes more than it opened (``is_balanced``). Balanced and unbalanced strings are
    drawn uniformly by rejection, except a share ``hard_fraction`` of the unbalanced ones,
    drawn among those that look balanced over their first and last ``ends`` prefixes
    (``ends_look_balanced``; at most ``length // 2 - 2``), so they fail only in the middle.
    Shuffled; decode with ``"()"[id]``.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    n = check_positive_int("n", n)
    length = check_positive_int("length", length)
    if length % 2:
        raise ValueError(f"length: expected an even number, got {length}")
    hard_fraction = check_positive_float("hard_fraction", hard_fraction, allow_zero=True)
    if hard_fraction > 1:
        raise ValueError(f"hard_fraction: expected a number in [0, 1], got {hard_fraction!r}")
    ends = check_positive_int("ends", ends, allow_zero=True)
    rng = as_generator(rng)
    want = {1: (n + 1) // 2, 0: n // 2}
    n_hard = int(hard_fraction * want[0])
    if n_hard and ends > length // 2 - 2:
        raise ValueError(f"ends: expected at most length // 2 - 2 = {length // 2 - 2} for hard strings "
                         f"of length {length}, got {ends}")
    want[0] -= n_hard
    found = {1: [], 0: []}
    base = np.array([0] * (length // 2) + [1] * (length // 2), dtype=np.int64)
    while any(len(found[k]) < want[k] for k in found):
        batch = rng.permuted(np.tile(base, (4 * n, 1)), axis=1)
        ok = is_balanced(batch)
        for label in (1, 0):
            need = want[label] - len(found[label])
            found[label].extend(batch[ok == bool(label)][:need])
    hard = []
    while len(hard) < n_hard:
        batch = rng.permuted(np.tile(base, (4 * n, 1)), axis=1)
        keep = ends_look_balanced(batch, ends) & ~is_balanced(batch)
        hard.extend(batch[keep][: n_hard - len(hard)])
    x = np.array(found[1] + found[0] + hard, dtype=np.int64).reshape(n, length)
    y = np.array([1] * want[1] + [0] * (want[0] + n_hard), dtype=np.int64)
    order = rng.permutation(n)
    return x[order], y[order]


def ends_look_balanced(x, ends):
    """For bracket ids x (N, T): (N,) bools, True where the depth (opened minus closed) is at
    or above zero over prefixes 1..ends and T-ends..T-1. Every balanced string passes; an
    unbalanced one that passes goes below zero only in the middle.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("x", x, (None, None), 2)
    ends = check_positive_int("ends", ends, allow_zero=True)
    T = x.shape[1]
    if 2 * ends > T:
        raise ValueError(f"ends: expected at most half the length {T} of x, got {ends}")
    depth = np.cumsum(np.where(x == 0, 1, -1), axis=1)  # depth[:, i] after i + 1 characters
    watched = np.r_[0:ends, T - ends - 1 : T - 1]
    return np.all(depth[:, watched] >= 0, axis=1)


def is_balanced(x):
    """For bracket ids x (N, T) (0 = ``(``, 1 = ``)``): True where the depth (opened
    minus closed) never drops below 0 and ends at 0. Returns (N,) bools.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_ids("x", x, (None, None), 2)
    depth = np.cumsum(np.where(x == 0, 1, -1), axis=1)
    return (depth.min(axis=1) >= 0) & (depth[:, -1] == 0)


def reverse_digits(n, min_len, max_len, rng):
    """A seq2seq task: ``n`` digit strings and their reversals, padded, as int64 ids.

    Ids 0-9 are digits, 10 ``<go>``, 11 ``<eos>`` (also the padding); lengths are uniform in
    [min_len, max_len]. Returns ``src`` (n, max_len), ``src_lengths`` (n,), ``tgt_in``
    (n, max_len + 1) (``<go>`` then the reversed digits), ``tgt_out`` (n, max_len + 1) (the
    reversed digits then ``<eos>``) and ``mask`` (n, max_len + 1), True on the real output steps.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    n = check_positive_int("n", n)
    min_len = check_positive_int("min_len", min_len)
    max_len = check_positive_int("max_len", max_len)
    if max_len < min_len:
        raise ValueError(f"max_len: expected >= min_len ({min_len}), got {max_len}")
    rng = as_generator(rng)
    GO, EOS = 10, 11
    lengths = rng.integers(min_len, max_len + 1, size=n)
    digits = rng.integers(0, 10, size=(n, max_len))
    steps = np.arange(max_len)
    src = np.where(steps < lengths[:, None], digits, EOS)
    # reversed digits: position j of the output is digit len - 1 - j of the input
    rev_index = np.clip(lengths[:, None] - 1 - steps, 0, max_len - 1)
    rev = np.where(steps < lengths[:, None], np.take_along_axis(digits, rev_index, axis=1), EOS)
    tgt_out = np.concatenate([rev, np.full((n, 1), EOS)], axis=1)
    tgt_in = np.concatenate([np.full((n, 1), GO), tgt_out[:, :-1]], axis=1)
    tgt_mask = np.arange(max_len + 1) <= lengths[:, None]
    return {"src": src.astype(np.int64), "src_lengths": lengths.astype(np.int64),
            "tgt_in": tgt_in.astype(np.int64), "tgt_out": tgt_out.astype(np.int64), "mask": tgt_mask}
