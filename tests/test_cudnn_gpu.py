"""rnnlib's numpy cuDNN modes against TensorFlow's cuDNN kernels (tf.raw_ops.CudnnRNN).

GPU only: skipped where TensorFlow sees no GPU (as on the CI runners). Parameters go
from rnnlib's canonical lists into cuDNN's opaque buffer through
tf.raw_ops.CudnnRNNCanonicalToParams. benchmarks/cudnn_gpu_check.py runs the same
comparisons as a standalone script (more cases, a table of differences).
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import import_tensorflow_or_skip

from rnnlib.cudnn import cudnn_rnn_forward, init_cudnn_params

tf = import_tensorflow_or_skip()

if not tf.config.list_physical_devices("GPU"):
    pytest.skip("no GPU: tf.raw_ops.CudnnRNN has GPU kernels only", allow_module_level=True)

from rnnlib.cudnn.tf_ops import cudnn_tf_forward  # noqa: E402

# cuDNN in float32 (TF32 switched off by import_tensorflow_or_skip) against numpy in float64 on the same
# float32 weights: expected differences ~1e-6 for these sizes; 1e-4 leaves room for
# cuDNN's own order of summation, while a misplaced gate or bias shows up as ~1e-1.
GPU_ATOL = 1e-4

B, T, D, H, LAYERS = 3, 6, 3, 4, 2


@pytest.fixture(scope="module", autouse=True)
def _canonical_to_params_does_not_abort():
    """TensorFlow CHECK-fails (aborts the process) on a params-size mismatch; find out in a child."""
    code = textwrap.dedent(
        """
        import numpy as np
        from rnnlib.cudnn import init_cudnn_params
        from rnnlib.cudnn.tf_ops import pack_params
        p = init_cudnn_params("lstm", 3, 4, 2, "bidirectional", rng=0, dtype=np.float32)
        print(int(pack_params(p, "lstm", "bidirectional").shape[0]))
        """
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                           cwd=Path(__file__).resolve().parents[1])
    if child.returncode != 0:
        pytest.fail(f"CudnnRNNCanonicalToParams failed in a child process (rc {child.returncode}):\n"
                    f"{child.stderr[-3000:]}")


@pytest.mark.parametrize("direction", ["unidirectional", "bidirectional"])
@pytest.mark.parametrize("mode", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_cudnn_kernel_matches_rnnlib(mode, direction):
    rng = np.random.default_rng(0)
    dirs = 2 if direction == "bidirectional" else 1
    params32 = init_cudnn_params(mode, D, H, LAYERS, direction, rng=rng, dtype=np.float32)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    h0 = rng.normal(size=(LAYERS * dirs, B, H)).astype(np.float32)
    c0 = rng.normal(size=h0.shape).astype(np.float32) if mode == "lstm" else None

    y_gpu, h_gpu, c_gpu = cudnn_tf_forward(x, h0, c0, params32, mode, direction=direction)

    params = [{k: a.astype(np.float64) for k, a in p.items()} for p in params32]
    y, h_n, c_n, _ = cudnn_rnn_forward(
        x.astype(np.float64), h0.astype(np.float64), None if c0 is None else c0.astype(np.float64),
        params, mode, direction=direction,
    )
    np.testing.assert_allclose(y_gpu, y, rtol=0, atol=GPU_ATOL)
    np.testing.assert_allclose(h_gpu, h_n, rtol=0, atol=GPU_ATOL)
    if mode == "lstm":
        np.testing.assert_allclose(c_gpu, c_n, rtol=0, atol=GPU_ATOL)
