"""Data for training: a character corpus, its vocabulary, parallel streams and chunks,
and the seeded synthetic tasks of the many-to-one and seq2seq examples.

numpy only. Every random draw comes from a ``numpy.random.Generator`` (or an int
seed) passed in; nothing here touches global random state.
"""

from __future__ import annotations

import re

import numpy as np

from . import _validate as v

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
    """A character vocabulary: its sorted characters, and text <-> id arrays.

    ``CharVocab(text)`` collects the distinct characters of ``text`` in sorted order
    (never ``list(set(text))``, whose order changes with the hash seed), so id ``i``
    is ``chars[i]`` on every machine. ``len(vocab)`` is K.

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
        v.check_ids("ids", ids, (None,), len(self))
        return "".join(self.chars[i] for i in ids)


# ------------------------------------------------------ streams and chunks --


def train_val_split(ids, val_fraction):
    """Cut a 1-D id array into its first part (training) and last part (validation).

    The cut is contiguous (no shuffling): the validation text is text the model has
    never read, not characters picked from inside training sentences. Returns two
    views ``(train, val)`` with ``len(val) = round(val_fraction * N)``, at least 1.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("ids", ids, (None,), None)
    val_fraction = v.check_positive_float("val_fraction", val_fraction)
    if val_fraction >= 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction!r}")
    n_val = max(1, int(round(val_fraction * len(ids))))
    if n_val >= len(ids):
        raise ValueError(f"ids: expected more than {n_val} ids to leave some for training, got {len(ids)}")
    return ids[:-n_val], ids[-n_val:]


def batchify(ids, batch_size):
    """Cut one long id array into ``batch_size`` parallel streams, (B, N // B).

    Stream ``b`` is the contiguous slice ``ids[b * L:(b + 1) * L]`` with
    ``L = N // B``; the last ``N mod B`` ids are dropped. Row ``b`` of chunk after
    chunk continues the same text, so the hidden state a row ends one chunk with is
    the right initial state for that row's next chunk (stateful training, as in
    Keras' ``stateful=True`` or Karpathy's char-rnn).

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("ids", ids, (None,), None)
    B = v.check_positive_int("batch_size", batch_size)
    L = len(ids) // B
    if L < 2:
        raise ValueError(f"ids: expected at least 2 * batch_size = {2 * B} ids, "
                         f"got {len(ids)}")
    return ids[: B * L].reshape(B, L)


def iter_chunks(streams, seq_len, *, drop_last=False):
    """Yield ``(x, y)`` chunks of ``streams`` (B, L): x (B, T) ids, y (B, T) the next ids.

    Chunk ``i`` is ``x = streams[:, i*T:(i+1)*T]`` and ``y`` the same columns shifted
    by one; T = ``seq_len``. Every column but the first is a target exactly once.
    The last chunk is shorter when (L - 1) is not a multiple of T, unless
    ``drop_last=True`` drops it (then every chunk has T steps).

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("streams", streams, (None, None), None)
    T = v.check_positive_int("seq_len", seq_len)
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
    v.check_ids("streams", streams, (None, None), None)
    T = v.check_positive_int("seq_len", seq_len)
    targets = streams.shape[1] - 1
    return targets // T if drop_last else -(-targets // T)


# ------------------------------------------------------- synthetic tasks --


def balanced_brackets(n, length, rng):
    """``n`` strings of ``length`` brackets, half balanced, as ids: (x (n, length), y (n,)).

    Every string has as many ``(`` (id 0) as ``)`` (id 1), so counting alone cannot
    tell the classes apart: a string is balanced (y = 1) when no prefix closes more
    brackets than it opened, which the model can only see by tracking the running
    depth through the whole string. Balanced strings are drawn uniformly among
    balanced ones (by rejection), unbalanced ones uniformly among the rest; the order
    is shuffled. ``length`` must be even and at least 2. Decode with ``"()"[id]``.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    n = v.check_positive_int("n", n)
    length = v.check_positive_int("length", length)
    if length % 2:
        raise ValueError(f"length: expected an even number, got {length}")
    rng = v.as_generator(rng)
    want = {1: (n + 1) // 2, 0: n // 2}
    found = {1: [], 0: []}
    base = np.array([0] * (length // 2) + [1] * (length // 2), dtype=np.int64)
    while any(len(found[k]) < want[k] for k in found):
        batch = rng.permuted(np.tile(base, (4 * n, 1)), axis=1)
        ok = is_balanced(batch)
        for label in (1, 0):
            need = want[label] - len(found[label])
            found[label].extend(batch[ok == bool(label)][:need])
    x = np.array(found[1] + found[0], dtype=np.int64).reshape(n, length)
    y = np.array([1] * want[1] + [0] * want[0], dtype=np.int64)
    order = rng.permutation(n)
    return x[order], y[order]


def is_balanced(x):
    """For bracket ids x (N, T) (0 = ``(``, 1 = ``)``): True where the depth (opened
    minus closed) never drops below 0 and ends at 0. Returns (N,) bools.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    v.check_ids("x", x, (None, None), 2)
    depth = np.cumsum(np.where(x == 0, 1, -1), axis=1)
    return (depth.min(axis=1) >= 0) & (depth[:, -1] == 0)


def reverse_digits(n, min_len, max_len, rng):
    """A seq2seq task: ``n`` digit strings and their reversals, padded, as ids.

    Vocabulary: ids 0-9 are the digits, 10 is ``<go>`` (the decoder's first
    input), 11 is ``<eos>`` (end of output) and also fills padded steps. Lengths are
    uniform in [min_len, max_len]. Returns a dict of int64 arrays:

    - ``src`` (n, max_len): the digits, padded with 11 after the end;
    - ``src_lengths`` (n,): the number of digits;
    - ``tgt_in`` (n, max_len + 1): ``<go>`` then the reversed digits (padded);
    - ``tgt_out`` (n, max_len + 1): the reversed digits then ``<eos>`` (padded);
    - ``mask`` (n, max_len + 1) bools: True on the len + 1 real output steps.

    ``tgt_in`` is ``tgt_out`` shifted right by one behind ``<go>``: teacher forcing.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    n = v.check_positive_int("n", n)
    min_len = v.check_positive_int("min_len", min_len)
    max_len = v.check_positive_int("max_len", max_len)
    if max_len < min_len:
        raise ValueError(f"max_len: expected >= min_len ({min_len}), got {max_len}")
    rng = v.as_generator(rng)
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
