"""The many-to-many RNN language model: the seed's example, gradients, stateful training."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPERTY, assert_gradients, raises_naming
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import Adagrad, RNNLanguageModel, clip_by_global_norm


def test_the_seeds_toy_example_runs(toy):
    x, y = toy
    model = RNNLanguageModel(5, 10, 4, rng=0)  # the seed's RNNNumpy(5, 4)
    assert model.params["W"].shape == (10, 5) and model.params["V"].shape == (4, 10)
    p = model.predict(x)
    assert p.shape == (1, 8, 4)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    loss, grads, h_last = model.loss(x, y)
    assert np.isfinite(loss) and h_last.shape == (1, 10)
    assert {k: g.shape for k, g in grads.items()} == {k: a.shape for k, a in model.params.items()}


def test_initial_loss_with_small_weights_is_T_ln_K(toy):
    x, y = toy
    model = RNNLanguageModel(5, 10, 4, rng=0, init_scale=0.01)
    loss, _, _ = model.loss(x, y)
    assert abs(loss - 8 * np.log(4)) < 0.05 * 8 * np.log(4)


@PROPERTY
@given(B=st.integers(1, 3), T=st.integers(1, 6), D=st.integers(1, 5), H=st.integers(1, 5),
       K=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       reduction=st.sampled_from(["sum", "mean"]), masked=st.booleans(), with_h0=st.booleans())
def test_language_model_passes_gradient_check(B, T, D, H, K, seed, reduction, masked, with_h0):
    rng = np.random.default_rng(seed)
    model = RNNLanguageModel(D, H, K, rng=rng)
    x, y = rng.integers(0, D, size=(B, T)), rng.integers(0, K, size=(B, T))
    h0 = rng.normal(size=(B, H)) if with_h0 else None
    mask = None
    if masked:
        mask = rng.random((B, T)) < 0.7
        mask[:, 0] = True

    def f():
        return model.loss(x, y, h0=h0, mask=mask, reduction=reduction)[0]

    _, grads, _ = model.loss(x, y, h0=h0, mask=mask, reduction=reduction)
    assert_gradients(f, model.params, grads)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_chunked_loss_equals_a_stateful_loop_over_chunks(chunk):
    rng = np.random.default_rng(1)
    model = RNNLanguageModel(6, 5, rng=rng)
    x, y = rng.integers(0, 6, size=(2, 7)), rng.integers(0, 6, size=(2, 7))
    loss, grads, h_last = model.loss(x, y, chunk=chunk)
    total, summed, h = 0.0, {k: 0.0 for k in model.params}, None
    for start in range(0, 7, chunk):  # a training loop without the parameter updates
        part = slice(start, start + chunk)
        l_part, g_part, h = model.loss(x[:, part], y[:, part], h0=h)
        total += l_part
        summed = {k: summed[k] + g_part[k] for k in summed}
    np.testing.assert_allclose(total, loss, rtol=1e-13)
    np.testing.assert_array_equal(h, h_last)
    for k in grads:
        np.testing.assert_allclose(summed[k], grads[k], rtol=1e-12, atol=1e-14)


def test_h_last_carries_the_sequence_across_calls():
    rng = np.random.default_rng(2)
    model = RNNLanguageModel(4, 3, rng=rng)
    x = rng.integers(0, 4, size=(2, 6))
    whole, _ = model.forward(x)
    first, cache = model.forward(x[:, :4])
    second, _ = model.forward(x[:, 4:], h0=cache["h_last"])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-14)


def test_truncate_reaches_the_model():
    rng = np.random.default_rng(3)
    model = RNNLanguageModel(4, 3, rng=rng)
    x, y = rng.integers(0, 4, size=(1, 6)), rng.integers(0, 4, size=(1, 6))
    full = model.loss(x, y)[1]
    long_window = model.loss(x, y, truncate=5)[1]
    short_window = model.loss(x, y, truncate=1)[1]
    for k in full:
        np.testing.assert_allclose(long_window[k], full[k], rtol=1e-12, atol=1e-15)
    assert not np.allclose(short_window["U"], full["U"])
    assert np.array_equal(short_window["V"], full["V"])  # the output layer is not truncated


def test_stateful_adagrad_training_learns_a_repeating_sequence():
    rng = np.random.default_rng(4)
    model = RNNLanguageModel(4, 16, rng=rng)
    text = np.tile([0, 1, 2, 3, 2, 1], 20)[None]  # (1, 120): predict the next id
    x, y = text[:, :-1], text[:, 1:]
    opt, losses = Adagrad(0.1), []
    for _ in range(30):
        h = None
        for start in range(0, x.shape[1], 10):
            part = slice(start, start + 10)
            loss, grads, h = model.loss(x[:, part], y[:, part], h0=h, reduction="mean")
            grads, _ = clip_by_global_norm(grads, 5.0)
            opt.step(model.params, grads)
        losses.append(model.loss(x, y, reduction="mean")[0])
    assert losses[-1] < 0.1 * np.log(4) and losses[-1] < losses[0] / 5


def test_sample_is_reproducible_and_greedy_follows_argmax():
    model = RNNLanguageModel(5, 8, rng=0)
    seed_ids = np.array([[1, 2], [3, 4]])
    a = model.sample(seed_ids, 12, rng=7)
    b = model.sample(seed_ids, 12, rng=np.random.default_rng(7))
    assert a.shape == (2, 12) and a.dtype == np.int64 and np.array_equal(a, b)
    assert a.min() >= 0 and a.max() < 5
    greedy = model.sample(seed_ids, 4, greedy=True)
    ids = seed_ids
    for i in range(4):
        next_ids = model.predict(ids)[:, -1].argmax(axis=-1)
        assert np.array_equal(greedy[:, i], next_ids)
        ids = np.concatenate([ids, next_ids[:, None]], axis=1)
    cold = model.sample(seed_ids, 12, rng=7, temperature=1e-3)
    assert np.array_equal(cold[:, :4], greedy)


def test_sampling_needs_output_size_equal_to_input_size():
    with raises_naming(ValueError, "output_size"):
        RNNLanguageModel(5, 3, 4, rng=0).sample(np.array([[0]]), 3, rng=0)


def test_model_outputs_do_not_alias_its_cache():
    rng = np.random.default_rng(5)
    model = RNNLanguageModel(4, 3, rng=rng)
    x = rng.integers(0, 4, size=(2, 5))
    dlogits = rng.normal(size=(2, 5, 4))
    h0 = rng.normal(size=(2, 3))
    logits, cache = model.forward(x, h0)
    g1 = model.backward(dlogits, cache)
    # What forward returns, and h0, may be overwritten before backward. (The cache holds
    # references to x and the parameters: the documented contract is not to modify them
    # between forward and backward, as in CS231n's layers.)
    logits[...] = 0.0
    cache["h_last"][...] = 0.0
    model.predict(x)[...] = 0.0
    h0[...] = 0.0
    g2 = model.backward(dlogits, cache)
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_float32_model():
    model = RNNLanguageModel(5, 4, rng=0, dtype=np.float32)
    x = np.array([[0, 1, 2, 3]])
    loss, grads, h = model.loss(x, x, truncate=2)
    assert loss.dtype == np.float32 and h.dtype == np.float32
    assert {a.dtype for a in grads.values()} == {np.dtype(np.float32)}
    assert model.predict(x).dtype == np.float32


def test_from_params_shares_the_arrays_and_reads_the_sizes():
    model = RNNLanguageModel(7, 4, 3, rng=5)
    again = RNNLanguageModel.from_params(model.params)
    assert again.params is model.params
    assert (again.input_size, again.hidden_size, again.output_size) == (7, 4, 3)
    x = np.array([[1, 6, 0, 2]])
    np.testing.assert_array_equal(again.forward(x)[0], model.forward(x)[0])


def test_from_params_names_what_is_wrong():
    p = RNNLanguageModel(5, 4, rng=0).params
    with raises_naming(ValueError, "params"):
        RNNLanguageModel.from_params({k: p[k] for k in ("W", "U", "b")})
    with raises_naming(ValueError, "params['U']"):
        RNNLanguageModel.from_params({**p, "U": p["U"][:, :3]})
    with raises_naming(ValueError, "params['V']"):
        RNNLanguageModel.from_params({**p, "V": p["V"][:, :3]})
    with raises_naming(TypeError, "params['b_y']"):
        RNNLanguageModel.from_params({**p, "b_y": p["b_y"].astype(np.float32)})


# ------------------------------------------------ initialisation, sampling --


def state_free_model(b_y, H=3):
    """A language model whose every prediction is softmax(b_y): W, U and b are zero, so h_t = 0."""
    K = len(b_y)
    rng = np.random.default_rng(0)
    return RNNLanguageModel.from_params({"W": np.zeros((H, K)), "U": np.zeros((H, H)), "b": np.zeros(H),
                                         "V": rng.normal(size=(K, H)), "b_y": np.asarray(b_y, float)})


@pytest.mark.parametrize("temperature", [None, 1.0, 2.0, 0.5])  # None: the default, 1
def test_every_sampled_id_follows_softmax_of_the_scores_over_the_temperature(temperature):
    b_y = np.array([1.0, 0.0, -1.0, 2.0])
    model = state_free_model(b_y)
    kw = {} if temperature is None else {"temperature": temperature}
    N = 4000  # sequences, each drawing its own ids
    ids = model.sample(np.zeros((N, 2), dtype=np.int64), 5, rng=11, **kw)
    p = np.exp(b_y / (temperature or 1.0))
    p /= p.sum()
    for step in range(5):  # every step of every sequence is an independent draw from p
        freq = np.bincount(ids[:, step], minlength=4) / N
        assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / N)), (step, freq, p)


def test_sampling_continues_from_the_last_seed_step_and_from_h0():
    rng = np.random.default_rng(9)
    model = RNNLanguageModel(5, 8, rng=rng, init_scale=1.0)  # weights large enough to matter
    seed_ids, h0 = rng.integers(0, 5, size=(3, 4)), 2 * rng.normal(size=(3, 8))  # B != T0
    greedy = model.sample(seed_ids, 6, greedy=True, h0=h0)
    assert greedy.shape == (3, 6)
    # Here h0 and the step read last matter: other choices predict other ids.
    assert not np.array_equal(greedy, model.sample(seed_ids, 6, greedy=True))
    assert not np.array_equal(greedy[:, 0], model.predict(seed_ids, h0=h0)[:, -2].argmax(axis=-1))
    ids = seed_ids
    for i in range(6):
        next_ids = model.predict(ids, h0=h0)[:, -1].argmax(axis=-1)
        assert np.array_equal(greedy[:, i], next_ids)
        ids = np.concatenate([ids, next_ids[:, None]], axis=1)
    assert model.sample(seed_ids, 0, rng=0).shape == (3, 0)


def test_predict_is_the_softmax_of_the_scores_from_h0():
    rng = np.random.default_rng(7)
    model = RNNLanguageModel(5, 4, 3, rng=rng)
    x, h0 = rng.integers(0, 5, size=(2, 3)), rng.normal(size=(2, 4))
    logits, _ = model.forward(x, h0)
    expected = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, h0), expected, rtol=1e-13)
    assert not np.allclose(model.predict(x), expected)


def test_loss_adds_minus_log_p_over_unmasked_steps_and_mean_divides_by_their_count():
    rng = np.random.default_rng(8)
    model = RNNLanguageModel(5, 4, 3, rng=rng)
    x, y = rng.integers(0, 5, size=(2, 4)), rng.integers(0, 3, size=(2, 4))
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 1]], dtype=bool)
    p = model.predict(x)
    expected = -sum(np.log(p[b, t, y[b, t]]) for b in range(2) for t in range(4) if mask[b, t])
    total, grads, _ = model.loss(x, y, mask=mask)
    np.testing.assert_allclose(total, expected, rtol=1e-13)
    mean, mean_grads, _ = model.loss(x, y, mask=mask, reduction="mean")
    np.testing.assert_allclose(mean, expected / 5, rtol=1e-13)
    for k in grads:
        np.testing.assert_allclose(mean_grads[k], grads[k] / 5, rtol=1e-12, atol=1e-15)


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    model = RNNLanguageModel(200, 100, 150, rng=0)
    fan_in = {"W": 200, "U": 100, "b": 100, "V": 100, "b_y": 100}
    for name, a in model.params.items():
        bound = 1 / np.sqrt(fan_in[name])
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.95 * bound, name
        assert abs(a.mean()) < 5 * bound / np.sqrt(3 * a.size), name  # centred on zero


@pytest.mark.parametrize("scale", [0.01, 0.0])
def test_init_scale_bounds_every_parameter(scale):
    model = RNNLanguageModel(200, 100, 150, rng=0, init_scale=scale)
    for name, a in model.params.items():
        assert np.abs(a).max() <= scale and np.abs(a).max() >= 0.95 * scale, name


def test_from_params_says_what_came():
    p = RNNLanguageModel(5, 4, rng=0).params
    with raises_naming(TypeError, "params") as info:
        RNNLanguageModel.from_params([p["W"]])
    assert str(info.value).endswith("got list")
    with raises_naming(ValueError, "params") as info:
        RNNLanguageModel.from_params({k: p[k] for k in ("W", "U", "b")})
    assert str(info.value).endswith("got keys ['U', 'W', 'b']")
    with raises_naming(TypeError, "params['W']"):
        RNNLanguageModel.from_params({**p, "W": p["W"].tolist()})


def test_seeded_samples_are_the_same_as_before():
    """Sampled text in the book's stored outputs rests on these draws: for a seed, sample must keep
    returning the same ids (a float32 model over 1000 ids, where the draw rule's rounding shows).
    A change must be deliberate: update the fingerprint and re-execute the notebooks that sample."""
    import hashlib

    model = RNNLanguageModel(1000, 4, rng=5, dtype=np.float32)
    ids = model.sample(np.zeros((2000, 1), dtype=np.int64), 4, rng=6)
    assert hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest()[:16] == "56c775753f325e4e"


class FixedDraws(np.random.Generator):
    """A Generator whose ``random`` returns the given uniform draws in turn (one per sequence and step)."""

    def __init__(self, draws):
        super().__init__(np.random.PCG64(0))
        self.draws = list(draws)

    def random(self, size=None, dtype=np.float64, out=None):
        n = int(np.prod(size))
        values, self.draws = self.draws[:n], self.draws[n:]
        return np.array(values, dtype=dtype).reshape(size)


def test_a_draw_picks_the_id_whose_half_open_cdf_interval_holds_it():
    """rng.random is uniform on [0, 1): id k is drawn when r * total lies in [cdf[k-1], cdf[k]), so
    each id is drawn with exactly its probability, and an id whose probability is 0 (exp underflows
    for a score 1e4 below the rest) never, not even for r = 0.0."""
    model = state_free_model([-1e4, 0.0, 0.0, -1e4])  # p = (0, 1/2, 1/2, 0) exactly; cdf (0, .5, 1, 1)
    top = 1 - 2.0**-53  # the largest value rng.random returns
    draws = [0.0, 0.5, np.nextafter(0.5, 0), top]
    ids = model.sample(np.zeros((4, 1), dtype=np.int64), 1, rng=FixedDraws(draws))
    assert ids[:, 0].tolist() == [1, 2, 1, 2]


@pytest.mark.parametrize("name", ["W", "U", "b", "V", "b_y"])
def test_parameters_are_not_scanned_a_nan_one_gives_nan_scores(name):
    """No parameter is scanned for NaN on every call (the training loops check the loss instead):
    a model around a NaN parameter is built and run, and the NaN shows in its scores."""
    params = dict(RNNLanguageModel(5, 4, 3, rng=0).params)
    params[name] = params[name].copy()
    params[name].flat[0] = np.nan
    model = RNNLanguageModel.from_params(params)
    logits, _ = model.forward(np.array([[0, 1, 2]]))
    assert np.isnan(logits).any()
