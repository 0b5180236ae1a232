"""Optimizers, clipping, and saving/loading parameters."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib import SGD, Adagrad, RNNLanguageModel, clip_by_global_norm, global_norm, load_params, save_params


def params_and_grads(dtype=np.float64):
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 2)).astype(dtype), "b": rng.normal(size=3).astype(dtype)}
    grads = {"W": rng.normal(size=(3, 2)).astype(dtype), "b": rng.normal(size=3).astype(dtype)}
    return params, grads


def test_sgd_updates_in_place():
    params, grads = params_and_grads()
    before = {k: a.copy() for k, a in params.items()}
    W = params["W"]
    SGD(0.1).step(params, grads)
    assert params["W"] is W
    for k in params:
        np.testing.assert_allclose(params[k], before[k] - 0.1 * grads[k], rtol=1e-15)


def test_adagrad_matches_its_formula_over_two_steps():
    params, grads = params_and_grads()
    expected = {k: a.copy() for k, a in params.items()}
    opt = Adagrad(0.5, eps=1e-8)
    memory = {k: np.zeros_like(a) for k, a in params.items()}
    for scale in (1.0, -2.0):
        g = {k: scale * a for k, a in grads.items()}
        opt.step(params, g)
        for k in params:
            memory[k] += g[k] ** 2
            expected[k] -= 0.5 * g[k] / (np.sqrt(memory[k]) + 1e-8)
            np.testing.assert_allclose(params[k], expected[k], rtol=1e-14)


def test_adagrad_first_step_moves_each_parameter_by_lr_against_its_gradient_sign():
    """m = g**2 after one step, so p moves by lr * g / (|g| + eps): lr * sign(g) for eps << |g|
    (eps defaults to 1e-8, as in min-char-rnn)."""
    params, grads = params_and_grads()
    before = {k: a.copy() for k, a in params.items()}
    Adagrad(0.1).step(params, grads)
    for k in params:
        np.testing.assert_allclose(params[k] - before[k], -0.1 * np.sign(grads[k]), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizers_keep_dtype(dtype):
    for opt in (SGD(0.1), Adagrad(0.1)):
        params, grads = params_and_grads(dtype)
        opt.step(params, grads)
        assert {a.dtype for a in params.values()} == {np.dtype(dtype)}


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    kept = {k: a.copy() for k, a in grads.items()}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    assert all(np.array_equal(grads[k], kept[k]) for k in grads)  # inputs untouched
    same, norm = clip_by_global_norm(grads, 10.0)
    assert norm == 5.0 and all(np.array_equal(same[k], grads[k]) for k in grads)
    assert all(not np.shares_memory(same[k], grads[k]) for k in grads)  # new arrays
    small, _ = clip_by_global_norm({"a": np.ones(2, np.float32)}, 0.5)
    assert small["a"].dtype == np.float32


@pytest.mark.parametrize("norm", [0.8, 3.0])
def test_clipping_scales_any_norm_above_max_norm_down_to_it(norm):
    grads = {"a": np.array([0.6, 0.0]) * norm, "b": np.array([[0.8]]) * norm}
    clipped, got = clip_by_global_norm(grads, 0.5)
    assert got == pytest.approx(norm, rel=1e-15)
    assert global_norm(clipped) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_allclose(clipped["a"], grads["a"] * 0.5 / norm, rtol=1e-15)


@pytest.mark.parametrize("value", [0.0, 1e-200])  # (1e-200)**2 underflows: the norm is 0
def test_clipping_returns_gradients_of_norm_zero_unchanged(value):
    grads = {"a": np.full(3, value), "b": np.zeros((2, 2))}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 0.0
    assert all(np.array_equal(clipped[k], grads[k]) for k in grads)


def test_save_and_load_round_trip(tmp_path):
    model = RNNLanguageModel(5, 3, 4, rng=0)
    path = save_params(tmp_path / "model", model.params)
    assert path.name == "model.npz" and path.exists()
    for expected in (None, {k: a.shape for k, a in model.params.items()}, model):
        loaded = load_params(path, expected)
        assert set(loaded) == set(model.params)
        assert all(np.array_equal(loaded[k], model.params[k]) for k in loaded)


def test_load_names_the_missing_or_misshaped_key(tmp_path):
    model = RNNLanguageModel(5, 3, 4, rng=0)
    params = dict(model.params)
    del params["U"]
    path = save_params(tmp_path / "missing.npz", params)
    with raises_naming(ValueError, "U"):
        load_params(path, model)
    params = dict(model.params, V=np.zeros((4, 2)))
    path = save_params(tmp_path / "misshaped.npz", params)
    with raises_naming(ValueError, "V"):
        load_params(path, model)
    with raises_naming(ValueError, "extra"):
        load_params(save_params(tmp_path / "extra", dict(model.params, extra=np.ones(1))), model)
    float32 = {k: a.astype(np.float32) for k, a in model.params.items()}
    with raises_naming(TypeError, "W"):
        load_params(save_params(tmp_path / "f32", float32), model)


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        load_params(path)


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a zip"])
def test_load_names_a_damaged_file(tmp_path, damage):
    """Not numpy's "pickled data" message: the file's name and what is wrong with it."""
    data = save_params(tmp_path / "good", RNNLanguageModel(5, 3, 4, rng=0).params).read_bytes()
    bad = tmp_path / "bad.npz"
    bad.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "not a zip": b"W,U\n1,2\n"}[damage])
    with pytest.raises(ValueError, match=rf"^{re.escape(str(bad))}: expected "):
        load_params(bad)


def test_global_norm_is_the_norm_of_all_entries_accumulated_in_float64():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == 5.0
    big = {"a": np.full(4, 3e20, dtype=np.float32)}  # squares overflow float32
    assert global_norm(big) == pytest.approx(6e20)
    assert clip_by_global_norm(grads, 1.0)[1] == global_norm(grads)


def test_optimizers_and_global_norm_do_not_scan_values():
    """Parameters and gradients are not scanned for NaN or inf on every step (the training loops
    check the loss instead): a non-finite gradient is applied like any other, and its norm says so."""
    for opt in (SGD(0.1), Adagrad(0.1)):
        params, grads = params_and_grads()
        params["b"][0] = np.nan
        grads["W"][0, 0] = np.inf
        with np.errstate(invalid="ignore"):  # Adagrad's inf / sqrt(inf) is NaN
            opt.step(params, grads)
        assert np.isnan(params["b"][0]) and np.isfinite(params["b"][1:]).all()
        assert not np.isfinite(params["W"][0, 0]) and np.isfinite(params["W"].flat[1:]).all()
    assert global_norm({"a": np.array([np.inf, 1.0]), "b": np.ones(2)}) == np.inf
    assert np.isnan(global_norm({"a": np.array([np.nan, 1.0])}))
    assert np.isnan(clip_by_global_norm({"a": np.array([np.nan, 1.0])}, 1.0)[1])
