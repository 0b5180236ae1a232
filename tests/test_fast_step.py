"""RNNLanguageModel.loss's fast path gives the shown functions' results bit for bit.

``model.loss`` with token ids, full BPTT and no mask runs ``rnnlib.models._training_step``
(fewer numpy calls, the same operations); everything else runs the shown functions. Here
both are compared with ``np.array_equal``: loss, every gradient and the last state.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlib import RNNLanguageModel, affine_backward, affine_forward, rnn_backward, rnn_forward, sequence_cross_entropy
from rnnlib import models as models_module
from rnnlib.models import _checked_loss, lm_grads


def shown_loss(model, x, y, h0=None, reduction="sum", mask=None, truncate=None, chunk=None):
    """model.loss written out with the functions the chapters show."""
    p = model.params
    hs, rnn_cache = rnn_forward(x, h0, p["W"], p["U"], p["b"])
    logits, out_cache = affine_forward(hs, p["V"], p["b_y"])
    loss, dlogits = sequence_cross_entropy(logits, y, mask=mask, reduction=reduction)
    g_out = affine_backward(dlogits, out_cache)
    g_rnn = rnn_backward(g_out["dh"], rnn_cache, truncate=truncate, chunk=chunk)
    return loss, lm_grads(g_rnn, g_out), hs[:, -1].copy()


def assert_same(a, b):
    (la, ga, ha), (lb, gb, hb) = a, b
    assert np.array_equal(la, lb, equal_nan=True) and la.dtype == lb.dtype
    assert list(ga) == list(gb)
    for k in ga:
        assert ga[k].dtype == gb[k].dtype and ga[k].shape == gb[k].shape, k
        assert np.array_equal(ga[k], gb[k], equal_nan=True), k
    assert np.array_equal(ha, hb, equal_nan=True) and ha.flags.c_contiguous


CASES = [  # (B, T, V, H, K): one-hot dW (V <= 4H) and scatter-add dW (V > 4H), B = 1, T = 1
    (1, 25, 65, 100, None), (8, 16, 65, 32, None), (3, 7, 50, 8, None), (2, 1, 5, 4, 3),
    (4, 9, 11, 16, 6),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_fast_path_equals_the_shown_functions(case, dtype, reduction):
    B, T, V, H, K = case
    model = RNNLanguageModel(V, H, K, rng=0, dtype=dtype)
    rng = np.random.default_rng(1)
    x = rng.integers(0, V, size=(B, T))
    y = rng.integers(0, model.output_size, size=(B, T))
    h0 = rng.uniform(-1, 1, size=(B, H)).astype(dtype)
    for h in (None, h0):
        fast = model.loss(x, y, h0=h, reduction=reduction)
        assert_same(fast, shown_loss(model, x, y, h, reduction))
        assert_same(fast, _checked_loss(model, x, y, h, reduction))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow, on purpose
def test_fast_path_raises_the_shown_functions_errors():
    model = RNNLanguageModel(7, 5, rng=0, dtype=np.float32)
    x = np.zeros((2, 3), dtype=np.int64)
    model.params["V"][0, 0] = np.nan  # NaN scores: the loss's check names the logits
    with pytest.raises(ValueError, match="^logits: expected finite values"):
        model.loss(x, x)
    model.params["V"][:] = 1e38  # finite, but dL/dh might overflow: the checked path decides
    model.params["V"][1] = -1e38
    for reduction in ("sum", "mean"):
        try:
            expected = shown_loss(model, x, x, reduction=reduction)
        except ValueError as error:
            with pytest.raises(ValueError, match=f"^{error}$"):
                model.loss(x, x, reduction=reduction)
        else:
            assert_same(model.loss(x, x, reduction=reduction), expected)


def test_subclass_with_its_own_forward_is_not_bypassed():
    calls = []

    class Logged(RNNLanguageModel):
        def forward(self, x, h0=None):
            calls.append(x.shape)
            return super().forward(x, h0)

    model = Logged(7, 5, rng=0, dtype=np.float32)
    x = np.zeros((2, 3), dtype=np.int64)
    assert_same(model.loss(x, x), RNNLanguageModel.from_params(model.params).loss(x, x))
    assert calls == [(2, 3)]


def spy(monkeypatch, name):
    """Record the calls of rnnlib.models.<name> (still running it)."""
    calls, original = [], getattr(models_module, name)

    def wrapped(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(models_module, name, wrapped)
    return calls


class OwnForward(RNNLanguageModel):
    def forward(self, x, h0=None):
        return super().forward(x, h0)


class OwnBackward(RNNLanguageModel):
    def backward(self, dlogits, cache, truncate=None, chunk=None):
        return super().backward(dlogits, cache, truncate=truncate, chunk=chunk)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.uint64])
def test_token_ids_of_any_integer_dtype_take_the_fast_path(monkeypatch, dtype):
    calls = spy(monkeypatch, "_training_step")
    model = RNNLanguageModel(7, 5, rng=0)
    x = np.arange(6).reshape(2, 3).astype(dtype)
    assert_same(model.loss(x, x), shown_loss(model, x, x))
    assert len(calls) == 1


MASK = np.array([[True, True, False], [True, False, True]])
SLOW = [  # (id, model class, float inputs, keyword arguments of loss)
    ("float inputs", RNNLanguageModel, True, {}), ("mask", RNNLanguageModel, False, {"mask": MASK}),
    ("truncate", RNNLanguageModel, False, {"truncate": 1}), ("chunk", RNNLanguageModel, False, {"chunk": 2}),
    ("own forward", OwnForward, False, {}), ("own backward", OwnBackward, False, {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "floats", "kw"), [c[1:] for c in SLOW], ids=[c[0] for c in SLOW])
def test_every_other_call_runs_the_shown_functions_with_its_h0(monkeypatch, cls, floats, kw, dtype):
    """Floats, a mask, truncate, chunk or a subclass's own forward/backward: the shown path, h0 used."""
    calls = spy(monkeypatch, "_training_step")
    model = cls(7, 5, rng=0, dtype=dtype)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 7)).astype(dtype) if floats else rng.integers(0, 7, size=(2, 3))
    y = rng.integers(0, 7, size=(2, 3))
    h0 = rng.uniform(-1, 1, size=(2, 5)).astype(dtype)
    for h in (None, h0):
        assert_same(model.loss(x, y, h0=h, **kw), shown_loss(model, x, y, h0=h, **kw))
    assert calls == []


def raised(call):
    """The type and message of the error ``call()`` raises."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return type(info.value), str(info.value)


def bad_h0s(dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    good = np.zeros((2, 5), dtype=dtype)
    return {"wrong H": good[:, :3], "one row": good[0], "batch of one": good[:1], "NaN": good + np.nan,
            "other dtype": good.astype(other), "list": good.tolist()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(bad_h0s(np.float32)))
def test_fast_path_checks_a_given_h0_as_the_shown_functions_do(case, dtype):
    model = RNNLanguageModel(7, 5, rng=0, dtype=dtype)
    x = np.zeros((2, 3), dtype=np.int64)
    h0 = bad_h0s(dtype)[case]
    expected = raised(lambda: shown_loss(model, x, x, h0))
    assert expected[1].startswith("h0: ")
    assert raised(lambda: model.loss(x, x, h0)) == expected


def test_fast_path_names_an_output_layer_that_does_not_fit_the_states_as_the_shown_functions_do():
    model = RNNLanguageModel(7, 5, rng=0)
    model.params["V"] = np.zeros((7, 6))  # the states have H = 5
    x = np.zeros((2, 3), dtype=np.int64)  # B != T: the message shows h as (B, T, H)
    expected = raised(lambda: shown_loss(model, x, x))
    assert expected == (ValueError, "h: expected shape (?, ?, 6), got shape (2, 3, 5)")
    assert raised(lambda: model.loss(x, x)) == expected


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow in the shown functions, if any
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("below", [True, False])
def test_the_checked_path_runs_from_a_quarter_of_the_largest_float(monkeypatch, dtype, below):
    """max|V| < (largest float) / 4 runs the fast path, else the checked path; the same results."""
    checked = spy(monkeypatch, "_checked_loss")
    model = RNNLanguageModel(7, 5, rng=0, dtype=dtype)
    quarter = np.finfo(dtype).max / 4
    model.params["V"][:] = 0
    model.params["V"][0, 0] = np.nextafter(quarter, 0) if below else quarter
    x = np.arange(6).reshape(2, 3)
    h0 = np.full((2, 5), 0.5, dtype=dtype)
    for h in (None, h0):
        try:
            expected = shown_loss(model, x, x, h)
        except ValueError as error:
            with pytest.raises(ValueError, match=f"^{error}$"):
                model.loss(x, x, h)
        else:
            assert_same(model.loss(x, x, h), expected)
    assert len(checked) == (0 if below else 2)
