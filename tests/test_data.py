"""Corpus, vocabulary, parallel streams and chunks, and the synthetic tasks (rnnlib.data)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib.data import (
    CharVocab,
    balanced_brackets,
    batchify,
    ends_look_balanced,
    is_balanced,
    iter_chunks,
    num_chunks,
    python_docs_text,
    reverse_digits,
    train_val_split,
)


def test_python_docs_text_is_prose_and_stable():
    text = python_docs_text()
    assert len(text) > 100_000
    assert text == python_docs_text()
    assert not any(line.startswith(" ") for line in text.split("\n"))  # code and grammar dropped
    assert "statement" in text


def test_vocab_is_sorted_and_round_trips():
    vocab = CharVocab("hello, world")
    assert vocab.chars == sorted(set("hello, world"))
    assert len(vocab) == 9
    ids = vocab.encode("world")
    assert ids.dtype == np.int64 and ids.shape == (5,)
    assert vocab.decode(ids) == "world"
    assert vocab.decode(list(ids)) == "world"
    assert vocab.encode("").shape == (0,)


def test_vocab_order_does_not_depend_on_insertion_order():
    assert CharVocab("cab").chars == CharVocab("bca").chars == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: CharVocab(""), ValueError, "text"),
        (lambda: CharVocab(b"abc"), TypeError, "text"),
        (lambda: CharVocab("abc").encode("abz"), ValueError, "text"),
        (lambda: CharVocab("abc").decode(np.array([0, 3])), ValueError, "ids"),
        (lambda: CharVocab("abc").decode(np.array([0.0])), TypeError, "ids"),
        (lambda: batchify(np.arange(10), 0), ValueError, "batch_size"),
        (lambda: batchify(np.arange(10), 6), ValueError, "ids"),
        (lambda: batchify(np.arange(10.0), 2), TypeError, "ids"),
        (lambda: batchify(np.arange(10).reshape(2, 5), 2), ValueError, "ids"),
        (lambda: next(iter_chunks(np.zeros((2, 1), dtype=np.int64), 3)), ValueError, "streams"),
        (lambda: next(iter_chunks(np.zeros((2, 5), dtype=np.int64), 0)), ValueError, "seq_len"),
        (lambda: train_val_split("a\nb", 1.0), ValueError, "val_fraction"),
        (lambda: train_val_split("a\nb", -0.1), ValueError, "val_fraction"),
        (lambda: train_val_split("ab", 0.5), ValueError, "text"),
        (lambda: train_val_split("a\nb\na", 0.3), ValueError, "text"),
        (lambda: train_val_split(np.arange(10), 0.1), TypeError, "text"),
        (lambda: balanced_brackets(10, 7, 0), ValueError, "length"),
        (lambda: balanced_brackets(0, 8, 0), ValueError, "n"),
        (lambda: balanced_brackets(10, 8, None), TypeError, "rng"),
        (lambda: balanced_brackets(10, 8, 0, hard_fraction=1.5), ValueError, "hard_fraction"),
        (lambda: balanced_brackets(10, 8, 0, hard_fraction=0.5, ends=3), ValueError, "ends"),
        (lambda: ends_look_balanced(np.zeros((2, 4), dtype=np.int64), 3), ValueError, "ends"),
        (lambda: reverse_digits(10, 4, 3, 0), ValueError, "max_len"),
        (lambda: reverse_digits(10, 0, 3, 0), ValueError, "min_len"),
    ],
)
def test_bad_input_names_the_argument(call, error, name):
    with raises_naming(error, name):
        call()


def test_train_val_split_cuts_at_a_paragraph_and_drops_repeats():
    paragraphs = [f"paragraph {i} " + "x" * 10 for i in range(10)]
    text = "\n".join(paragraphs)
    train, val = train_val_split(text, 0.2)
    assert train.split("\n") == paragraphs[:8] and val.split("\n") == paragraphs[8:]
    # a validation paragraph that repeats a training paragraph is dropped, the rest kept in order
    text = "\n".join([*paragraphs[:8], paragraphs[2], paragraphs[9]])
    train, val = train_val_split(text, 0.2)
    assert train.split("\n") == paragraphs[:8] and val == paragraphs[9]


def test_train_val_split_of_the_corpus_shares_no_paragraph():
    text = python_docs_text()
    train, val = train_val_split(text, 0.1)
    assert 0.05 * len(text) < len(val) < 0.1 * len(text) and text.startswith(train + "\n")
    assert not set(val.split("\n")) & set(train.split("\n"))


def test_batchify_cuts_contiguous_streams_and_drops_the_remainder():
    ids = np.arange(23)
    streams = batchify(ids, 4)
    assert streams.shape == (4, 5)
    for b in range(4):
        assert np.array_equal(streams[b], np.arange(5 * b, 5 * b + 5))  # row b continues the text


@pytest.mark.parametrize(("L", "T"), [(11, 5), (11, 10), (11, 3), (2, 4), (9, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_chunks_cover_every_target_once_shifted_by_one(L, T, drop_last):
    streams = np.arange(3 * L).reshape(3, L)
    chunks = list(iter_chunks(streams, T, drop_last=drop_last))
    assert len(chunks) == num_chunks(streams, T, drop_last=drop_last)
    for x, y in chunks:
        assert x.shape == y.shape and x.shape[0] == 3 and 1 <= x.shape[1] <= T
        assert np.array_equal(y, x + 1)  # the target is the next id of the same stream
        if drop_last:
            assert x.shape[1] == T
    if not drop_last:
        assert np.array_equal(np.concatenate([y for _, y in chunks], axis=1), streams[:, 1:])
        assert np.array_equal(np.concatenate([x for x, _ in chunks], axis=1), streams[:, :-1])
    else:
        assert len(chunks) == (L - 1) // T


def test_balanced_brackets_labels_counts_and_seed():
    x, y = balanced_brackets(301, 12, 5)
    assert x.shape == (301, 12) and y.shape == (301,) and x.dtype == y.dtype == np.int64
    assert np.array_equal(y, is_balanced(x).astype(np.int64))
    assert y.sum() == 151  # half balanced (the odd one out is balanced)
    assert np.all((x == 0).sum(axis=1) == 6)  # equal counts in both classes: counting cannot tell
    x2, y2 = balanced_brackets(301, 12, np.random.default_rng(5))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = balanced_brackets(301, 12, 6)
    assert not np.array_equal(x, x3)


def test_is_balanced_examples():
    strings = ["(())", "())(", "()()"]
    x = np.array([["()".index(c) for c in s] for s in strings])
    assert is_balanced(x).tolist() == [True, False, True]
    assert is_balanced(np.array([[0, 1], [1, 0]])).tolist() == [True, False]


def test_ends_look_balanced_watches_only_the_ends():
    strings = ["(())()", "())(()", "()()()", ")(()()", "(()))("]
    x = np.array([["()".index(c) for c in s] for s in strings])
    # prefixes 1 and 5 (ends=1); prefixes 1, 2, 4, 5 (ends=2)
    assert ends_look_balanced(x, 1).tolist() == [True, True, True, False, False]
    assert ends_look_balanced(x, 2).tolist() == [True, True, True, False, False]
    assert ends_look_balanced(x, 0).all()
    # "())(()" dips to -1 after 3 characters only: invisible to ends <= 2, seen with ends = 3
    assert ends_look_balanced(x, 3).tolist() == [True, False, True, False, False]
    assert np.array_equal(ends_look_balanced(x, 3), is_balanced(x))


@pytest.mark.parametrize("ends", [3, 5])
def test_balanced_brackets_hard_negatives_dip_only_in_the_middle(ends):
    x, y = balanced_brackets(400, 20, 1, hard_fraction=1.0, ends=ends)
    assert y.sum() == 200 and np.array_equal(y, is_balanced(x).astype(np.int64))
    assert ends_look_balanced(x, ends).all()  # the negatives too: their dips are in the middle
    x, y = balanced_brackets(400, 20, 1, hard_fraction=0.5, ends=ends)
    hard = ends_look_balanced(x, ends) & (y == 0)
    assert hard.sum() >= 100 and (~ends_look_balanced(x, ends)).sum() > 0
    # no hard strings asked for: the same draw as without the keywords
    a, b = balanced_brackets(301, 12, 5), balanced_brackets(301, 12, 5, hard_fraction=0.0, ends=ends)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_reverse_digits_shapes_reversal_and_teacher_forcing():
    task = reverse_digits(200, 2, 5, 3)
    n = 200
    assert task["src"].shape == (n, 5) and task["tgt_in"].shape == task["tgt_out"].shape == (n, 6)
    assert task["mask"].dtype == np.bool_
    lengths = task["src_lengths"]
    assert lengths.min() >= 2 and lengths.max() <= 5
    for i in range(n):
        k = lengths[i]
        digits = task["src"][i, :k]
        assert digits.max() <= 9 and np.all(task["src"][i, k:] == 11)
        assert np.array_equal(task["tgt_out"][i, :k], digits[::-1])
        assert task["tgt_out"][i, k] == 11 and task["mask"][i].sum() == k + 1
    assert np.all(task["tgt_in"][:, 0] == 10)
    assert np.array_equal(task["tgt_in"][:, 1:], task["tgt_out"][:, :-1])
    again = reverse_digits(200, 2, 5, 3)
    assert all(np.array_equal(task[k], again[k]) for k in task)


def test_ids_without_a_vocabulary_must_be_non_negative():
    with pytest.raises(ValueError, match=r"^ids: expected non-negative ids, got values from -1 to 3$"):
        batchify(np.array([0, 3, -1, 2]), 2)
