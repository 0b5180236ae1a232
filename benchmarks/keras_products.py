"""Which matrix products the step benchmark's Keras step runs, read from a profiler trace.

``step_benchmark.keras_step_gflop`` counts Keras's arithmetic as rnnlib's
(``step_gflop``) plus two products per time step that rnnlib does not do: the one-hot
input times the kernel, and that kernel's gradient. This script checks the count
against what TensorFlow actually executes. It builds the benchmark's Keras step at a
small size, runs it once untraced, traces one call with TensorFlow's profiler, and
lists every matrix-product kernel that ran, by node name and number of calls. Each
name is matched to a product with known operand shapes, and the products' sum is
compared with ``keras_step_gflop``. TensorFlow's traced gradient graph also holds
the product for the gradient of the one-hot input (``MatMul_grad/MatMul``); nothing
uses it, and the trace shows that TensorFlow's graph optimizer removes it.

Run from the repository root (it takes a few seconds, and times nothing)::

    .venv/bin/python benchmarks/keras_products.py

It prints the products and exits with status 1 if the executed products differ from
the expected ones. The smoke test runs it. The node names belong to the pinned
TensorFlow and Keras versions; a new version may rename them, and this check then
fails until the table below is updated.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import step_benchmark  # noqa: E402


def expected_products(B, T, V, H):
    """Node name -> (calls per step, (m, k, n) of each call, what it computes)."""
    N = B * T
    return {
        "simple_rnn_cell/BiasAdd": (T, (B, V, H), "x_t @ kernel (+ b), one-hot input (rnnlib: a lookup)"),
        "simple_rnn_cell/MatMul_1": (T, (B, H, H), "h_{t-1} @ recurrent_kernel"),
        "dense/Tensordot/MatMul": (1, (N, H, V), "output layer"),
        "dense/Tensordot/MatMul/MatMul": (1, (N, V, H), "dL/dh from the output layer"),
        "dense/Tensordot/MatMul/MatMul_1": (1, (H, N, V), "gradient of the dense kernel"),
        "simple_rnn_cell/MatMul_1_grad/MatMul": (T, (B, H, H), "delta_t @ recurrent_kernel^T"),
        "simple_rnn_cell/MatMul_1_grad/MatMul_1": (T, (H, B, H), "gradient of recurrent_kernel, per step"),
        "simple_rnn_cell/MatMul_grad/MatMul_1": (T, (V, B, H), "kernel gradient, per step (rnnlib: one-hot product)"),
    }


NOT_RUN = "simple_rnn_cell/MatMul_grad/MatMul"  # delta_t @ kernel^T: the one-hot input's gradient
_NAME = re.compile(r".*(simple_rnn_cell|dense)(?:_\d+)?/([^:]*):(\w*MatMul\w*|Einsum)$")


def executed_products(raw_step, tf, x, y) -> collections.Counter:
    """Matrix-product kernels that one traced call of ``raw_step`` runs: short name -> calls."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    x, y = tf.constant(x), tf.constant(y)
    raw_step(x, y)  # trace and run once, untraced by the profiler
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        raw_step(x, y)[0].numpy()
        tf.profiler.experimental.stop()
        (trace,) = Path(logdir).rglob("*.xplane.pb")
        space = xplane_pb2.XSpace.FromString(trace.read_bytes())
    counts: collections.Counter = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                op_type = name.rsplit(":", 1)[-1]
                if "MatMul" in op_type or op_type == "Einsum":
                    match = _NAME.match(name)
                    counts[f"{match[1]}/{match[2]}" if match else name] += 1
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, nargs=4, default=step_benchmark.TINY_SIZES[0],
                        metavar=("B", "T", "V", "H"), help="(default: the benchmark's first tiny size)")
    B, T, V, H = parser.parse_args(argv).size
    tf, keras = step_benchmark.import_keras(threads=1)
    model, x, y = step_benchmark.make_problem(B, T, V, H)
    _, raw_step = step_benchmark.make_keras_step(tf, keras, model.params, T, V)
    counts = executed_products(raw_step, tf, x, y)

    expected = expected_products(B, T, V, H)
    flop = 0
    print(f"(B, T, V, H) = ({B}, {T}, {V}, {H}): matrix products of one Keras step")
    for name, (calls, (m, k, n), what) in expected.items():
        flop += calls * 2 * m * k * n
        shapes = f"({m}, {k}) x ({k}, {n})"
        print(f"  {calls:3d} x {shapes:18s} {name:40s} {what}")
    ran_as_expected = counts == collections.Counter({name: calls for name, (calls, _, _) in expected.items()})
    if not ran_as_expected:
        print("executed instead:", dict(counts))
    count_agrees = abs(flop / 1e9 - step_benchmark.keras_step_gflop(B, T, V, H)) <= 1e-9 * flop
    print(f"the products executed are exactly these: {ran_as_expected}")
    print(f"the one-hot input's gradient ({NOT_RUN}) is not executed: {NOT_RUN not in counts}")
    print(f"their FLOP equal keras_step_gflop: {count_agrees}")
    return 0 if ran_as_expected and count_agrees else 1


if __name__ == "__main__":
    sys.exit(main())
