"""Sampling and prediction take one sequence, (T,) ids or (T, D) floats, as a batch of one.

The natural call ``model.sample(vocab.encode("hel"), 60, rng=1)`` must work and give
what the batch of one gives, without the batch axis; errors name the caller's argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib import CharVocab, RNNClassifier, RNNLanguageModel, Seq2Seq

D, H, C = 5, 7, 3
rng = np.random.default_rng(0)
ids = rng.integers(0, D, size=6)
floats = rng.normal(size=(6, D))
h0 = rng.normal(size=H)
lm = RNNLanguageModel(D, H, rng=1)


def test_the_natural_call_samples_text():
    vocab = CharVocab("hello world")
    model = RNNLanguageModel(len(vocab), 8, rng=0)
    out = model.sample(vocab.encode("hel"), 60, rng=1)
    assert out.shape == (60,) and out.dtype == np.int64
    assert len(vocab.decode(out)) == 60


@pytest.mark.parametrize("kw", [{"rng": 3}, {"greedy": True}, {"rng": 3, "temperature": 0.5}])
@pytest.mark.parametrize("with_h0", [False, True])
def test_sample_of_one_sequence_is_the_batch_of_one(kw, with_h0):
    one = lm.sample(ids, 9, h0=h0 if with_h0 else None, **kw)
    batch = lm.sample(ids[None], 9, h0=h0[None] if with_h0 else None, **kw)
    assert one.shape == (9,)
    np.testing.assert_array_equal(one, batch[0])


@pytest.mark.parametrize("with_h0", [False, True])
def test_predict_of_one_sequence_is_the_batch_of_one(with_h0):
    one = lm.predict(ids, h0 if with_h0 else None)
    batch = lm.predict(ids[None], h0[None] if with_h0 else None)
    assert one.shape == (6, D)
    np.testing.assert_array_equal(one, batch[0])


def test_float_inputs_of_one_sequence_are_the_batch_of_one():
    np.testing.assert_array_equal(lm.predict(floats), lm.predict(floats[None])[0])
    np.testing.assert_array_equal(lm.sample(floats, 4, rng=2), lm.sample(floats[None], 4, rng=2)[0])


def test_classifier_predict_of_one_sequence_is_the_batch_of_one():
    clf = RNNClassifier(D, H, C, rng=2)
    for x in (ids, floats):
        one = clf.predict(x)
        assert one.shape == (C,)
        np.testing.assert_array_equal(one, clf.predict(x[None])[0])


def test_greedy_decode_of_one_sequence_is_the_batch_of_one():
    model = Seq2Seq(D, 6, H, rng=3)
    one = model.greedy_decode(ids, 4, 8, end_id=5)
    assert one.shape == (8,)
    np.testing.assert_array_equal(one, model.greedy_decode(ids[None], 4, 8, end_id=5)[0])


def test_batches_still_give_batches():
    assert lm.sample(np.stack([ids, ids]), 3, rng=0).shape == (2, 3)
    assert lm.predict(np.stack([ids, ids])).shape == (2, 6, D)


# (id, call, error type, the argument the message must name)
CASES = [
    ("seed rank 3", lambda: lm.sample(ids[None, None], 2, rng=0), ValueError, "seed_ids"),
    ("seed empty", lambda: lm.sample(ids[:0], 2, rng=0), ValueError, "seed_ids"),
    ("seed batch empty", lambda: lm.sample(ids[None, :0], 2, rng=0), ValueError, "seed_ids"),
    ("seed id too large", lambda: lm.sample(ids + D, 2, rng=0), ValueError, "seed_ids"),
    ("seed list", lambda: lm.sample(ids.tolist(), 2, rng=0), TypeError, "seed_ids"),
    ("seed batch id too large", lambda: lm.sample(ids[None] + D, 2, rng=0), ValueError, "seed_ids"),
    ("seed floats wrong D", lambda: lm.sample(floats[:, :2], 2, rng=0), ValueError, "seed_ids"),
    ("h0 of one seed", lambda: lm.sample(ids, 2, rng=0, h0=h0[:3]), ValueError, "h0"),
    ("h0 batch for one seed", lambda: lm.sample(ids, 2, rng=0, h0=h0[None]), ValueError, "h0"),
    ("predict x rank 3", lambda: lm.predict(ids[None, None]), ValueError, "x"),
    ("predict h0 of one x", lambda: lm.predict(ids, h0[:3]), ValueError, "h0"),
    ("classifier lengths for one x",
     lambda: RNNClassifier(D, H, C, rng=0).predict(ids, np.array([3])), ValueError, "lengths"),
    ("decode src_lengths for one src",
     lambda: Seq2Seq(D, 6, H, rng=0).greedy_decode(ids, 4, 3, src_lengths=np.array([3])), ValueError,
     "src_lengths"),
    ("decode src rank 3", lambda: Seq2Seq(D, 6, H, rng=0).greedy_decode(ids[None, None], 4, 3), ValueError,
     "src"),
    ("classifier x rank 3", lambda: RNNClassifier(D, H, C, rng=0).predict(ids[None, None]), ValueError, "x"),
]


@pytest.mark.parametrize("call", [
    lambda: RNNClassifier(D, H, C, rng=0).predict(floats[:, :2]),
    lambda: Seq2Seq(D, 6, H, rng=0).greedy_decode(floats[:, :2], 4, 3),
    lambda: lm.predict(floats[:, :2]),
], ids=["classifier", "seq2seq", "language model"])
def test_one_float_sequence_of_the_wrong_width_is_named_as_one_sequence(call):
    """The error shows the one-sequence shape the caller should pass, (?, D), not the batch's."""
    with pytest.raises(ValueError, match=rf"^(x|src): expected shape \(\?, {D}\), got shape \(6, 2\)"):
        call()


@pytest.mark.parametrize(("call", "error", "name"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_errors_name_the_argument_the_caller_passed(call, error, name):
    with raises_naming(error, name) as info:
        call()
    assert "expected" in str(info.value)


@pytest.mark.parametrize("call", [
    lambda: lm.predict(ids, h0[:3]), lambda: lm.sample(ids, 2, rng=0, h0=h0[:3]),
], ids=["predict", "sample"])
def test_the_h0_of_one_sequence_is_named_with_its_one_sequence_shape(call):
    """The error shows (H,), the h0 the caller should pass with one sequence, not the batch's (1, H)."""
    with pytest.raises(ValueError, match=rf"^h0: expected shape \({H},\), got shape \(3,\)$"):
        call()


def test_the_issue_message_is_gone():
    """Before: ``x: expected shape (?, ?), got shape (3,)``, naming an argument sample has not."""
    with raises_naming(ValueError, "seed_ids"):
        lm.sample(np.array([[[0]]]), 2, rng=0)
