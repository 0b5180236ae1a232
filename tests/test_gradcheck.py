"""The gradient-check utility itself: it must pass right gradients and catch wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib import GradCheckReport, gradient_check, numerical_gradient, relative_error


def cubic_problem(seed=0):
    x = np.random.default_rng(seed).normal(size=(3, 4))
    return x, (lambda: float(np.sum(x**3))), 3 * x**2


def test_numerical_gradient_matches_a_known_derivative_and_restores_x():
    x, f, exact = cubic_problem()
    before = x.copy()
    for order, eps, tol in [(2, 1e-6, 1e-8), (4, 1e-3, 1e-11)]:
        numeric = numerical_gradient(f, x, eps, order=order)
        np.testing.assert_allclose(numeric, exact, rtol=0, atol=tol)
        assert np.array_equal(x, before)  # bit for bit


def test_numerical_gradient_restores_x_when_f_fails():
    x = np.ones(3)
    calls = []

    def f():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return float(x.sum())

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert np.array_equal(x, np.ones(3))


def test_relative_error_formula():
    a = np.array([1.0, 0.0, 1e-12, -2.0])
    n = np.array([1.0 + 1e-6, 0.0, 0.0, 2.0])
    err = relative_error(a, n)
    np.testing.assert_allclose(err, [1e-6 / (2 + 1e-6), 0.0, 1e-12 / 1e-8, 1.0])
    assert relative_error(a, n, floor=1.0)[2] == 1e-12


def test_gradient_check_passes_right_and_catches_wrong_gradients():
    x, f, exact = cubic_problem()
    y = np.linspace(-1, 1, 5)

    def g():
        return f() + float(np.sum(np.sin(y)))

    report = gradient_check(g, {"x": x, "y": y}, {"x": exact, "y": np.cos(y)})
    assert isinstance(report, GradCheckReport) and report.ok(1e-7)
    wrong = exact.copy()
    wrong[2, 1] *= 1.01  # a 1% error in one entry
    report = gradient_check(g, {"x": x, "y": y}, {"x": wrong, "y": np.cos(y)})
    name, error, index = report.worst
    assert (name, index) == ("x", (2, 1)) and error > 1e-3
    assert not report.ok(1e-7) and report["y"].error < 1e-7
    text = str(report)
    assert "x" in text and "y" in text and "(2, 1)" in text and "max rel error" in text


def test_gradient_check_refuses_float32():
    x = np.ones((2, 2), dtype=np.float32)
    with raises_naming(TypeError, "params"):
        gradient_check(lambda: float(x.sum()), {"x": x}, {"x": np.ones((2, 2))})
    with raises_naming(TypeError, "x"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_gradient_check_needs_every_gradient_with_its_shape():
    x = np.ones(3)
    with pytest.raises(ValueError, match="'x'"):
        gradient_check(lambda: float(x.sum()), {"x": x}, {"z": np.ones(3)})
    with raises_naming(ValueError, "grads['x']"):
        gradient_check(lambda: float(x.sum()), {"x": x}, {"x": np.ones(4)})


def test_f_must_return_a_finite_number():
    x = np.ones(2)
    with raises_naming(TypeError, "f"):
        numerical_gradient(lambda: x.copy(), x)
    with raises_naming(ValueError, "f"):
        numerical_gradient(lambda: float("nan"), x)


def test_order_4_beats_order_2_on_small_entries():
    # f has a large value (rounding noise) and a tiny derivative in x[1].
    x = np.array([0.3, 0.2])

    def f():
        return 100.0 + np.sin(x[0]) + 1e-4 * x[1] ** 2

    exact = np.array([np.cos(0.3), 2e-4 * 0.2])
    err2 = relative_error(exact, numerical_gradient(f, x, 1e-6))
    err4 = relative_error(exact, numerical_gradient(f, x, 1e-3, order=4))
    assert err4.max() < 1e-7 < err2.max()
    assert err4.max() < err2.max() / 100
