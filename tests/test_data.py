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
    assert vocab.encode("").shape == (0,) and vocab.encode("").dtype == np.int64


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
        (lambda: reverse_digits(0, 1, 3, 0), ValueError, "n"),
        (lambda: reverse_digits(10, 1, 2.0, 0), TypeError, "max_len"),
        (lambda: balanced_brackets(10, 0, 0), ValueError, "length"),
        (lambda: balanced_brackets(10, 8, 0, hard_fraction=-0.5), ValueError, "hard_fraction"),
        (lambda: balanced_brackets(10, 8, 0, ends=-1), ValueError, "ends"),
        (lambda: ends_look_balanced(np.zeros((2, 4), dtype=np.int64), -1), ValueError, "ends"),
        (lambda: ends_look_balanced(np.full((2, 4), 2), 1), ValueError, "x"),
        (lambda: ends_look_balanced(np.zeros((2, 4)), 1), TypeError, "x"),
        (lambda: is_balanced(np.full((2, 4), 2)), ValueError, "x"),
        (lambda: is_balanced(np.zeros(4, dtype=np.int64)), ValueError, "x"),
        (lambda: list(iter_chunks(np.zeros((2, 5)), 2)), TypeError, "streams"),
        (lambda: num_chunks(np.zeros((2, 5)), 2), TypeError, "streams"),
        (lambda: num_chunks(np.zeros((2, 5), dtype=np.int64), 0), ValueError, "seq_len"),
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


# ---------------------------------------------- edges of the documented ranges --


def test_python_docs_text_joins_prose_paragraphs_and_drops_code_and_underlines():
    import re
    from pydoc_data.topics import topics

    text = python_docs_text()
    blocks = [b for key in sorted(topics) for b in re.split(r"\n\s*\n", topics[key])]
    underline = re.compile(r"[*=\-~^]+")
    prose = [b for b in blocks if not any(line.startswith(" ") for line in b.split("\n"))
             and any(line.strip() and not underline.fullmatch(line.strip()) for line in b.split("\n"))]
    lines = text.split("\n")
    assert len(lines) == len(prose)  # one line per paragraph without an indented (code) line
    docs = " ".join(" ".join(b.split()) for b in blocks)
    for line in lines:
        assert " ".join(line.split()) in docs  # a paragraph of the docs, its lines joined by spaces
    assert not [w for w in text.split() if underline.fullmatch(w) and len(w) >= 3]  # no heading underlines


def test_vocab_errors_say_what_came():
    with raises_naming(TypeError, "text") as info:
        CharVocab(123)
    assert str(info.value).endswith("got int")
    with raises_naming(TypeError, "text") as info:
        CharVocab("abc").encode(b"ab")
    assert str(info.value).endswith("got bytes")
    with raises_naming(ValueError, "text") as info:
        CharVocab("abc").encode("abcdefghij")  # seven unknown characters: the first five are shown
    assert str(info.value).endswith("got ['d', 'e', 'f', 'g', 'h']")
    with raises_naming(TypeError, "text") as info:
        train_val_split(b"a\nb", 0.5)
    assert str(info.value).endswith("got bytes")
    with raises_naming(ValueError, "text") as info:
        train_val_split("a\nb\na", 0.3)
    assert str(info.value).endswith("got none")


def test_train_val_split_takes_the_shortest_prefix_reaching_one_minus_val_fraction():
    rng = np.random.default_rng(0)
    paragraphs = [f"{i}:" + "x" * int(rng.integers(0, 6)) for i in range(60)]
    text = "\n".join(paragraphs)
    for fraction in (0.1, 0.25, 0.5, 0.8):
        train, val = train_val_split(text, fraction)
        k = len(train.split("\n"))
        assert val.split("\n") == paragraphs[k:]
        # k paragraphs and their newlines reach (1 - fraction) of the text; k - 1 do not
        assert len(train) + 1 >= (1 - fraction) * len(text) > len("\n".join(paragraphs[:k - 1])) + 1
    assert train_val_split("a\nb", 0.5) == ("a", "b")  # two paragraphs are enough
    assert train_val_split(text, 1e-9)[1] == paragraphs[-1]  # at least one paragraph is validation


def test_batchify_accepts_two_ids_per_stream_and_says_how_many_are_needed():
    assert batchify(np.arange(6), 3).shape == (3, 2)
    with raises_naming(ValueError, "ids") as info:
        batchify(np.arange(5), 3)
    assert "expected at least 2 * batch_size = 6 ids" in str(info.value)


def test_chunks_keep_the_short_last_chunk_by_default():
    streams = np.arange(2 * 11).reshape(2, 11)  # 10 targets per stream: chunks of 4, 4 and 2
    assert [x.shape[1] for x, _ in iter_chunks(streams, 4)] == [4, 4, 2]
    assert num_chunks(streams, 4) == 3 and num_chunks(streams, 4, drop_last=True) == 2


@pytest.mark.parametrize("n", [101, 100])
def test_balanced_brackets_with_every_negative_hard(n):
    x, y = balanced_brackets(n, 10, 2, hard_fraction=1.0)  # the default ends = 3 = 10 // 2 - 2
    assert x.shape == (n, 10) and y.tolist().count(1) == (n + 1) // 2 and y.tolist().count(0) == n // 2
    assert np.array_equal(y, is_balanced(x).astype(np.int64))
    assert np.all((x == 0).sum(axis=1) == 5)  # every string, hard ones too, has five of each
    assert ends_look_balanced(x, 3).all()
    x0, _ = balanced_brackets(n, 10, 2, hard_fraction=1.0, ends=0)  # ends = 0: any unbalanced string
    assert x0.shape == (n, 10)


def test_balanced_brackets_ends_limit_and_its_message():
    balanced_brackets(10, 10, 0, hard_fraction=0.5, ends=3)  # 3 = 10 // 2 - 2: allowed
    with raises_naming(ValueError, "ends") as info:
        balanced_brackets(10, 10, 0, hard_fraction=0.5, ends=4)
    assert "expected at most length // 2 - 2 = 3 for hard strings of length 10, got 4" in str(info.value)


def test_reverse_digits_lengths_and_digits_cover_their_ranges():
    task = reverse_digits(400, 2, 5, 4)
    assert set(task["src_lengths"].tolist()) == {2, 3, 4, 5}
    assert set(task["src"][task["src"] < 10].tolist()) == set(range(10))
    assert task["mask"].shape == (400, 6)
    assert all(task[k].dtype == np.int64 for k in ("src", "src_lengths", "tgt_in", "tgt_out"))
    same = reverse_digits(50, 3, 3, 0)  # min_len == max_len: every string has that length
    assert np.all(same["src_lengths"] == 3) and same["src"].shape == (50, 3)


def test_seeded_tasks_draw_the_same_data_as_before():
    """The book's stored outputs rest on these draws: a change of the data for a seed must be
    deliberate (update the fingerprints and re-execute the notebooks that use the tasks)."""
    import hashlib

    def fingerprint(*arrays):
        digest = hashlib.sha256()
        for a in arrays:
            digest.update(np.ascontiguousarray(a).tobytes())
        return digest.hexdigest()[:16]

    assert fingerprint(*balanced_brackets(31, 10, 5)) == "12b2cbf439806aee"
    assert fingerprint(*balanced_brackets(31, 10, 5, hard_fraction=0.5)) == "90d2547553202773"
    task = reverse_digits(40, 1, 6, 3)
    assert fingerprint(*(task[k] for k in sorted(task))) == "bc1de190b04d9e8e"
