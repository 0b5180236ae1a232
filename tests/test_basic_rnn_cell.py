"""TF1's BasicRNNCell (tf-keras, TF_USE_LEGACY_KERAS=1) computes rnnlib's RNN with kernel = [W.T; U.T].

The legacy switch must be set before TensorFlow is imported and cannot be undone in a
process, and the other tests import TensorFlow with Keras 3, so the cell runs in a
subprocess (``tests/legacy_basic_rnn_cell.py``) that prints its comparisons as JSON.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_keras_interop import FLOAT32_RTOL, FLOAT64_RTOL

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None,
    reason="TensorFlow and tf-keras are needed for BasicRNNCell",
)

SCRIPT = Path(__file__).with_name("legacy_basic_rnn_cell.py")
B, T, D, H = 3, 6, 4, 5  # as in the script


@pytest.fixture(scope="module")
def result():
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_legacy_switch_gives_tf_keras(result):
    assert result["tf_keras_is_tf_keras"], "TF_USE_LEGACY_KERAS=1 did not make tf.keras the tf-keras package"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernel_stacks_W_transposed_over_U_transposed(result, dtype):
    r = result[dtype]
    assert r["kernel_shape"] == [D + H, H], "BasicRNNCell kernel: expected shape (D + H, H)"
    assert r["kernel_is_WT_over_UT"], "basic_rnn_cell_from_params: kernel != concatenate([W.T, U.T], axis=0)"
    assert r["round_trip_exact"], "params_from_basic_rnn_cell(basic_rnn_cell_from_params(W, U, b)) != (W, U, b)"


@pytest.mark.parametrize(("dtype", "rtol"), [("float32", FLOAT32_RTOL), ("float64", FLOAT64_RTOL)])
def test_outputs_and_gradients_agree_with_rnnlib(result, dtype, rtol):
    r = result[dtype]
    for key in ("outputs", "final_state", "simple_rnn_cell_vs_basic"):
        assert r[key] <= rtol, f"BasicRNNCell with kernel = [W.T; U.T], bias = b: {key} max |diff| = {r[key]:.1e}"
    for key in ("dW", "dU", "db", "dx", "dh0"):
        bound = rtol * r["scale"]
        assert r[key] <= bound, f"BasicRNNCell gradient split as [dW.T; dU.T]: {key} max |diff| = {r[key]:.1e}"


def test_cell_warns_that_it_is_deprecated_for_simple_rnn_cell(result):
    assert any("SimpleRNNCell" in w for w in result["float32"]["warning"])
