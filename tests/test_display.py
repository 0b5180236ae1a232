"""rnnlib.display: the agreement check the TensorFlow and cuDNN chapters print."""

from __future__ import annotations

import numpy as np

from rnnlib.display import FLOAT32_GRAD_TOL, FLOAT32_TOL, FLOAT64_TOL, compare, max_abs_diff


def test_max_abs_diff_is_the_largest_absolute_difference_in_float64():
    got = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert max_abs_diff(got, [1.0, 2.5, 2.0]) == 1.0
    assert max_abs_diff(0.1, 0.1) == 0.0


def test_compare_prints_the_verdict_not_the_difference(capsys):
    result = compare("states", [1.0, 2.0], [1.0, 2.0 + 3e-6], FLOAT32_TOL)
    line = capsys.readouterr().out
    assert result is None  # a cell ending with compare displays nothing more
    assert line == f"{'states':<36} max |diff| <= 1e-05: True\n"
    assert "3e-06" not in line


def test_compare_fails_above_the_tolerance_and_on_nan(capsys):
    compare("wrong", [0.0], [0.5], FLOAT32_TOL, width=8)
    compare("nan", [np.nan], [0.0], FLOAT64_TOL, width=8)
    assert capsys.readouterr().out.splitlines() == [
        "wrong    max |diff| <= 1e-05: False",
        "nan      max |diff| <= 1e-12: False",
    ]


def test_the_tolerances_are_ordered():
    assert FLOAT64_TOL < FLOAT32_TOL < FLOAT32_GRAD_TOL
