"""Gradient checking: compare analytic gradients with central differences, in float64.

The relative error of one entry is ``|a - n| / max(|a| + |n|, floor)``: 1e-7 or less
for a correct gradient of a smooth float64 function with ``order=4, eps=1e-3`` (not always
at the default ``order=2, eps=1e-6``: Chapter 2 shows why), usually far more for a wrong
one. ``floor`` stops entries where both are (nearly) zero from dividing by zero.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import check_array_dict, check_choice, check_float_array, check_positive_float


def _check_float64(name, a):
    check_float_array(name, a, (None,) * getattr(a, "ndim", 0))
    if a.size == 0:
        raise ValueError(f"{name}: expected at least one entry, got shape {a.shape}")
    if a.dtype != np.float64:
        raise TypeError(f"{name}: expected dtype float64 (a float32 gradient check proves "
                        f"nothing), got dtype {a.dtype}")


def numerical_gradient(f, x, eps=1e-6, *, order=2):
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry i.

    f: a no-argument function returning a float that reads ``x``, a float64 array perturbed in
    place one entry at a time and restored. Returns x's shape. Error: truncation about ``eps^2 |f'''| / 6``
    plus rounding about ``1e-16 |f| / eps``; ``order=4`` (five-point stencil, truncation ~eps^4) with
    eps=1e-3 brings both near 1e-13 (Chapter 2, "How accurate is a finite-difference check?").

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    _check_float64("x", x)
    eps = check_positive_float("eps", eps)
    check_choice("order", order, (2, 4))
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            diff1 = _f_at(f, x, i, old + eps) - _f_at(f, x, i, old - eps)
            if order == 2:
                grad[i] = diff1 / (2 * eps)
            else:
                diff2 = _f_at(f, x, i, old + 2 * eps) - _f_at(f, x, i, old - 2 * eps)
                grad[i] = (8 * diff1 - diff2) / (12 * eps)
        finally:
            x[i] = old
    return grad


def _f_at(f, x, i, value):
    """f() with x[i] set to value (the caller restores x[i])."""
    x[i] = value
    value = f()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"f: expected a function returning a float, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"f: expected a finite value, got {value!r}")
    return float(value)


def relative_error(analytic, numeric, floor=1e-8):
    """Elementwise ``|a - n| / max(|a| + |n|, floor)``; a and n of one shape.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    check_float_array("analytic", analytic, (None,) * getattr(analytic, "ndim", 0))
    check_float_array("numeric", numeric, analytic.shape)
    floor = check_positive_float("floor", floor)
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)


@dataclass(frozen=True)
class ParamCheck:
    """One parameter's result: the largest relative error, where, and the two values there.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """

    name: str
    shape: tuple
    error: float
    index: tuple
    analytic: float
    numeric: float


@dataclass(frozen=True)
class GradCheckReport:
    """Per-parameter results of ``gradient_check``; ``str()`` gives a table.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """

    checks: tuple

    @property
    def worst(self):
        """``(name, error, index)`` of the largest relative error over all parameters."""
        c = max(self.checks, key=lambda c: c.error)
        return c.name, c.error, c.index

    def ok(self, tol=1e-7):
        """True when every parameter's largest relative error is below ``tol``."""
        return all(c.error < tol for c in self.checks)

    def __getitem__(self, name):
        """The ``ParamCheck`` of parameter ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def __str__(self):
        rows = [f"{'param':<8} {'shape':<12} {'max rel error':>13}  {'at':<10} "
                f"{'analytic':>12} {'numeric':>12}"]
        for c in self.checks:
            rows.append(f"{c.name:<8} {str(c.shape):<12} {c.error:>13.1e}  {str(c.index):<10} "
                        f"{c.analytic:>12.4e} {c.numeric:>12.4e}")
        return "\n".join(rows)


def gradient_check(f, params, grads, eps=1e-6, floor=1e-8, *, order=2):
    """Check ``grads[name]`` against central differences of ``f`` for every ``params[name]``.

    f: no-argument function returning the loss, reading the arrays in ``params``
    (float64, perturbed in place and restored); grads: analytic gradients, at least
    the keys of ``params`` (extra keys are ignored). ``eps`` and ``order`` are those of
    ``numerical_gradient``. Returns a ``GradCheckReport``.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    check_array_dict("params", params)
    if not isinstance(grads, dict):
        raise TypeError(f"grads: expected a dict of numpy arrays, got {type(grads).__name__}")
    checks = []
    for name, x in params.items():
        _check_float64(f"params[{name!r}]", x)
        if name not in grads:
            raise ValueError(f"grads: expected a gradient for {name!r}, got keys {sorted(grads)}")
        analytic = grads[name]
        check_float_array(f"grads[{name!r}]", analytic, x.shape)
        numeric = numerical_gradient(f, x, eps, order=order)
        err = relative_error(analytic, numeric, floor)
        i = tuple(int(j) for j in np.unravel_index(int(np.argmax(err)), err.shape))
        checks.append(ParamCheck(name, x.shape, float(err[i]), i, float(analytic[i]),
                                 float(numeric[i])))
    return GradCheckReport(tuple(checks))
