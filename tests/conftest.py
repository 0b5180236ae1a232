"""Shared helpers for the rnnlib tests: random problems and a strict gradient check."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from hypothesis import Phase, settings

from rnnlib.gradcheck import gradient_check

# Every property test: few, small, reproducible examples (CI must not flake). A mutation
# run (tests/mutation/run.py sets RNNLIB_MUTATION) only needs to know that a property
# fails, not its smallest counterexample, so hypothesis does not shrink there.
_NO_SHRINK = {"phases": [Phase.explicit, Phase.reuse, Phase.generate]} if os.environ.get("RNNLIB_MUTATION") else {}
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, **_NO_SHRINK)

# The analytic gradients must agree with finite differences to this relative error.
GRAD_TOL = 1e-7


def make_rnn_problem(B, T, D, H, seed, *, ids, dtype=np.float64, scale=0.5):
    """Random inputs, state, parameters and upstream gradient for one RNN layer."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, D, size=(B, T)) if ids else rng.normal(size=(B, T, D)).astype(dtype)
    return {
        "x": x,
        "h0": (scale * rng.normal(size=(B, H))).astype(dtype),
        "W": (scale * rng.normal(size=(H, D))).astype(dtype),
        "U": (scale * rng.normal(size=(H, H))).astype(dtype),
        "b": (0.2 * rng.normal(size=H)).astype(dtype),
        "dhs": rng.normal(size=(B, T, H)).astype(dtype),
    }


def as64(arrays: dict) -> dict:
    """The same dict with every array as float64 (to compare float32 results exactly)."""
    return {k: np.asarray(a, dtype=np.float64) for k, a in arrays.items()}


def raises_naming(error, name):
    """``pytest.raises`` that also requires the message to start with the argument's name.

    Every rnnlib error reads ``"<argument>: expected ..., got ..."``, where the argument
    may be narrowed to an entry (``grads['W']: ...``, ``weights[2] (bias): ...``);
    matching the prefix, not any occurrence of the name, proves the right one is named.
    """
    return pytest.raises(error, match=rf"^{re.escape(name)}(\[[^\]]*\])*( \([^)]*\))?: ")


def assert_gradients(f, params, grads):
    """Five-point central differences (order=4, eps=1e-3; see numerical_gradient)
    agree with ``grads`` to GRAD_TOL for every entry of every parameter."""
    report = gradient_check(f, params, grads, eps=1e-3, order=4)
    assert report.ok(GRAD_TOL), f"\n{report}"
    return report


@pytest.fixture
def toy():
    """The seed's example: 5 input ids, 4 output classes, one sequence of 8 steps."""
    x = np.array([[1, 2, 3, 2, 0, 2, 4, 2]])
    y = np.array([[1, 0, 2, 3, 1, 3, 0, 1]])
    return x, y


def import_tensorflow_or_skip():
    """TensorFlow (quietly, through rnnlib.tfcompat) with TF32 switched off, or skip the module.

    TF32 would let an Ampere or newer GPU round float32 products to 10-bit mantissas,
    far beyond the tolerances of the cuDNN comparisons; on a CPU the switch does nothing.
    """
    try:
        from rnnlib.tfcompat import import_tensorflow

        tf = import_tensorflow()
    except ImportError:  # pragma: no cover - TensorFlow is an optional dependency
        pytest.skip("TensorFlow not installed", allow_module_level=True)
    tf.config.experimental.enable_tensor_float_32_execution(False)
    return tf
