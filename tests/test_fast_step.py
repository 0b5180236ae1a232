"""RNNLanguageModel.loss's fast path gives the shown functions' results bit for bit.

``model.loss`` with token ids, full BPTT and no mask runs ``rnnlib.models._training_step``
(fewer numpy calls, the same operations); everything else runs the shown functions. Here
both are compared with ``np.array_equal``: loss, every gradient and the last state.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlib import RNNLanguageModel, affine_backward, affine_forward, rnn_backward, rnn_forward, sequence_cross_entropy
from rnnlib.models import _checked_loss, _training_step, lm_grads


def shown_loss(model, x, y, h0=None, reduction="sum"):
    """model.loss written out with the functions the chapters show."""
    p = model.params
    hs, rnn_cache = rnn_forward(x, h0, p["W"], p["U"], p["b"])
    logits, out_cache = affine_forward(hs, p["V"], p["b_y"])
    loss, dlogits = sequence_cross_entropy(logits, y, reduction=reduction)
    g_out = affine_backward(dlogits, out_cache)
    g_rnn = rnn_backward(g_out["dh"], rnn_cache)
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
        assert_same(fast, _training_step(model, x, y, h, reduction))
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
