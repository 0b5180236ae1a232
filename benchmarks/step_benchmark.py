"""Time one training step of rnnlib against Keras and against the source's per-sample loop.

Run from the repository root (this is how the committed CSVs were made; the
``env -u`` drops two OpenBLAS variables that some machines set and that force a
slower kernel -- see benchmarks/machine.py)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/step_benchmark.py \
        && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/scaling.py

One training step is: forward pass, summed cross-entropy loss, full backpropagation
through time and every parameter gradient, in float32, for a language model with
(B, T, V, H) = (batch, steps, vocabulary, hidden units):

rnnlib
    ``RNNLanguageModel.loss(x, y)`` (batched numpy, one Python loop over time).
Keras
    ``SimpleRNN(H, return_sequences=True)`` + ``Dense(V)`` on one-hot inputs
    (``tf.one_hot`` inside the step, so both sides take token ids), the loss
    ``SparseCategoricalCrossentropy(from_logits=True, reduction="sum")``, gradients
    of every trainable variable by ``tf.GradientTape`` inside one ``tf.function``.
    Its weights are rnnlib's, copied with ``rnnlib.keras_interop``: SimpleRNN's
    kernel is W^T (V, H) -- the product of a one-hot row with W^T selects column
    x_t of W, as rnnlib's id lookup does -- recurrent_kernel U^T, bias b; Dense's
    kernel V^T and bias b_y. (``keras_interop.build_keras_language_model`` puts an
    Embedding in front instead, with an identity input kernel: that costs Keras a
    second H x H product per step, so it is not used here.) Keras therefore does
    more arithmetic than rnnlib: the (B, V) x (V, H) one-hot product at every step,
    where rnnlib looks a column up (``keras_step_gflop`` counts it; the smoke test
    checks with TensorFlow's profiler which products the step runs).

    The Keras configuration is a plain one, not Keras at its fastest: oneDNN off
    (``TF_ENABLE_ONEDNN_OPTS=0``, set by ``rnnlib.tfcompat`` for reproducible digits;
    on Linux, TensorFlow's default is on for processors with AVX-512 VNNI or BF16,
    AVX-VNNI or AMX instructions, ``DefaultOneDnnPolicy`` in
    tensorflow/core/util/port.cc, and off on other x86-64 processors), ``tf.function``
    without XLA (``jit_compile=False``), ``SimpleRNN(unroll=False)``, one intra-op and
    one inter-op thread by default. Neither side applies the optimizer's update.
source-style
    The source's unbatched numpy code in spirit: a loop over the samples, a loop
    over time with matrix-vector products, and its backward pass with the per-output
    truncation ``bptt_truncate=4`` (outer products inside the double loop), corrected
    (bias outside U, U^T and h in the recursion, ``o`` not mutated). It is a
    reference written here, not part of rnnlib; it computes rnnlib's ``truncate=4``
    gradients. Computed this way, one window per output, truncation costs more
    products by U^T than one full-BPTT sweep (fewer than the untruncated double loop).

All three use the same parameters and data; before timing, the script checks that
their losses and gradients agree (Keras with full BPTT, the source-style loop with
rnnlib's ``truncate=4``). Timing runs the implementations in turn, round after round,
all in this one process (warm-up rounds excluded; ``gc.collect()`` before, and the
garbage collector off during, every timed call), and reports the median and quartiles
of each. Each timed call is a single step after another implementation's, so caches
and thread pools are cold: that costs TensorFlow more than numpy at small sizes, and
a training loop's steady state can differ. The "matmul" column replays only the
products both implementations need (``step_gflop``), with the same shapes, through
numpy: it is the rate this machine's BLAS reaches on them, and ``matmul_fraction`` =
matmul time / rnnlib time says how close the whole step comes to it. The GFLOP/s
columns divide each implementation's own count (``rnnlib_step_gflop``,
``keras_step_gflop``, ``step_gflop`` for the replay) by its time.

Threads: by default numpy's BLAS and TensorFlow both get one thread (``--threads
0`` leaves each library its own default). One thread compares the implementations
rather than two threading runtimes, and on a small shared machine extra threads
mostly measure the neighbours.

Memory: numpy allocates intermediate arrays afresh, and when glibc's malloc has
handed large freed blocks back to the kernel, the next step pays a page fault for
every 4 KiB page it touches again (TensorFlow keeps most of its memory in a pool of
its own). The script counts the page faults of every step (``getrusage``'s minor
faults) for rnnlib and Keras. Because this process has imported TensorFlow, whose
large heap makes glibc keep the blocks numpy frees, rnnlib's step pays almost none
here, while the same step in a numpy program of its own pays page faults on every
step at the bigger sizes: the ratios include that advantage for rnnlib (the
performance appendix counts the faults in a process without TensorFlow).

Writes ``step_benchmark.csv`` and ``step_benchmark.json`` (machine description)
into ``--out`` (default ``benchmarks/results``) and prints a table. ``--tiny`` runs
small sizes with few repeats into a temporary folder (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
import numpy as np  # noqa: E402
from timing import quartiles_ms, time_interleaved, write_csv  # noqa: E402

from rnnlib import RNNLanguageModel  # noqa: E402

SIZES = [(1, 25, 65, 100), (32, 64, 65, 128), (32, 64, 65, 512)]
TINY_SIZES = [(2, 5, 7, 8), (3, 4, 6, 5)]
DTYPE = np.float32
SOURCE_TRUNCATE = 4  # the source's default bptt_truncate

COLUMNS = ["B", "T", "V", "H", "dtype", "threads", "gflop", "repeats",
           "rnnlib_ms", "rnnlib_q1_ms", "rnnlib_q3_ms",
           "keras_ms", "keras_q1_ms", "keras_q3_ms",
           "source_ms", "source_q1_ms", "source_q3_ms", "source_repeats", "source_truncate",
           "matmul_ms", "rnnlib_over_keras",
           "rnnlib_cpu_ms", "keras_cpu_ms", "rnnlib_over_keras_cpu", "rnnlib_faults", "keras_faults",
           "rnnlib_gflops", "keras_gflops", "matmul_gflops", "matmul_fraction",
           "keras_max_rel_err", "source_max_rel_err"]


def step_gflop(B, T, V, H) -> float:
    """Multiply-adds (x2) of the matrix products every implementation of the step needs.

    Forward: h @ U^T at every step (2BTH^2) and the output layer (2BTHV). Backward:
    dh = dz V and dV = dz^T h (2 x 2BTHV), ds @ U at every step and dU (2 x 2BTH^2).
    The input term W x_t is a lookup (no products); elementwise work is not counted.
    """
    return 2 * B * T * (3 * H * H + 3 * H * V) / 1e9


def rnnlib_step_gflop(B, T, V, H) -> float:
    """``step_gflop`` plus rnnlib's dW: a product by the (BT, V) one-hot matrix up to
    V = 4H ids (2BTVH), a scatter-add (no products) above (``rnnlib.rnn.sum_by_id``)."""
    return step_gflop(B, T, V, H) + (2 * B * T * V * H / 1e9 if V <= 4 * H else 0.0)


def keras_step_gflop(B, T, V, H) -> float:
    """``step_gflop`` plus Keras's one-hot input: (B, V) x (V, H) at every step (2BTVH)
    and the gradient of its kernel, (V, B) x (B, H) at every step (2BTVH)."""
    return step_gflop(B, T, V, H) + 4 * B * T * V * H / 1e9


# ---------------------------------------------------------------- rnnlib ----


def make_problem(B, T, V, H, seed=0):
    """An RNNLanguageModel in float32 and a batch of ids x and targets y, both (B, T)."""
    model = RNNLanguageModel(V, H, rng=seed, dtype=DTYPE)
    rng = np.random.default_rng(seed + 1)
    return model, rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))


# ---------------------------------------------------------- source-style ----


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


class SourceStyleRNN:
    """The source's unbatched RNN (forward_propagation, calculate_loss, bptt), corrected.

    Not part of rnnlib: a reference for the benchmark. One sequence at a time, one
    matrix-vector product per step; the backward pass keeps the source's double loop
    over outputs t and the steps k = t, t-1, ..., t - bptt_truncate, with an outer
    product per (t, k). Corrections: the bias is added outside U, the recursion
    multiplies by U^T (the source wrote W^T) and uses h (it wrote an undefined s),
    and the softmax outputs are copied before ``delta_o[t, y_t] -= 1``.
    """

    def __init__(self, params, bptt_truncate=SOURCE_TRUNCATE):
        self.W, self.U, self.b, self.V, self.b_y = (params[k].copy() for k in ("W", "U", "b", "V", "b_y"))
        self.bptt_truncate = bptt_truncate

    def forward_propagation(self, x):
        """Outputs o (T, K) and states h (T + 1, H); h[-1] is the initial state, zeros."""
        T, H = len(x), self.U.shape[0]
        h = np.zeros((T + 1, H), dtype=self.U.dtype)
        o = np.zeros((T, self.V.shape[0]), dtype=self.U.dtype)
        for t in range(T):
            h[t] = np.tanh(self.W[:, x[t]] + self.U.dot(h[t - 1]) + self.b)
            o[t] = _softmax(self.V.dot(h[t]) + self.b_y)
        return o, h

    def bptt(self, x, y):
        """Loss and gradients {W, U, b, V, b_y} of one sequence."""
        T = len(y)
        o, h = self.forward_propagation(x)
        loss = -np.sum(np.log(o[np.arange(T), y]))
        dW, dU, db = np.zeros_like(self.W), np.zeros_like(self.U), np.zeros_like(self.b)
        dV, db_y = np.zeros_like(self.V), np.zeros_like(self.b_y)
        delta_o = o.copy()
        delta_o[np.arange(T), y] -= 1
        for t in reversed(range(T)):
            dV += np.outer(delta_o[t], h[t])
            db_y += delta_o[t]
            delta_t = self.V.T.dot(delta_o[t]) * (1 - h[t] ** 2)
            for k in range(t, max(0, t - self.bptt_truncate) - 1, -1):
                dU += np.outer(delta_t, h[k - 1])
                db += delta_t
                dW[:, x[k]] += delta_t
                delta_t = self.U.T.dot(delta_t) * (1 - h[k - 1] ** 2)
        return loss, {"W": dW, "U": dU, "b": db, "V": dV, "b_y": db_y}

    def step(self, xs, ys):
        """The batch, one sample at a time: summed loss and gradients."""
        total, grads = 0.0, None
        for x, y in zip(xs, ys, strict=True):
            loss, g = self.bptt(x, y)
            total += loss
            grads = g if grads is None else {k: grads[k] + g[k] for k in g}
        return total, grads


# ----------------------------------------------------------------- Keras ----


def import_keras(threads=None):
    """TensorFlow (quietly, through rnnlib.tfcompat) and Keras; optionally fix TF's threads."""
    from rnnlib.tfcompat import import_tensorflow

    tf = import_tensorflow()
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    return tf, keras


def make_keras_step(tf, keras, params, T, V):
    """A compiled training step of SimpleRNN + Dense holding rnnlib's ``params``.

    Returns ``step(x, y) -> (loss, grads)`` with grads in rnnlib's layout {W, U, b, V,
    b_y} (numpy, for the agreement check) and ``raw_step`` (tensors in, tensors out:
    what is timed).
    """
    from rnnlib.keras_interop import set_simple_rnn_weights, simple_rnn_from_keras

    H = params["U"].shape[0]
    rnn = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float32")
    dense = keras.layers.Dense(V, dtype="float32")
    model = keras.Sequential([keras.Input(shape=(T, V), dtype="float32"), rnn, dense])
    set_simple_rnn_weights(rnn, params["W"], params["U"], params["b"])
    dense.kernel.assign(params["V"].T)
    dense.bias.assign(params["b_y"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    variables = model.trainable_variables  # kernel, recurrent_kernel, bias, dense kernel, dense bias

    @tf.function
    def raw_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(tf.one_hot(x, V), training=True)
            loss = loss_fn(y, logits)
        return loss, tape.gradient(loss, variables)

    def step(x, y):
        loss, grads = raw_step(tf.constant(x), tf.constant(y))
        g = [np.asarray(a) for a in grads]
        out = simple_rnn_from_keras(g[:3])
        out.update({"V": g[3].T.copy(), "b_y": g[4]})
        return float(loss), out

    return step, raw_step


# ------------------------------------------------------- matmul replay ----


def make_matmul_replay(B, T, V, H, seed=0):
    """The step's matrix products alone, same shapes and transposes, in float32."""
    rng = np.random.default_rng(seed)
    N = B * T

    def a(*shape):
        return rng.standard_normal(shape).astype(DTYPE)

    h, U, U_T, hs, V_, dz, ds = a(B, H), a(H, H), a(H, H), a(N, H), a(V, H), a(N, V), a(N, H)

    def replay():
        for _ in range(T):
            h @ U_T  # forward recurrence
        hs @ V_.T  # output layer
        dz @ V_  # dL/dh from the output layer
        dz.T @ hs  # dV
        for _ in range(T):
            h @ U  # backward recurrence
        ds.T @ hs  # dU

    return replay


# ---------------------------------------------------------------- timing ----


def max_rel_err(grads, reference):
    """Largest ``max|g - ref| / max|ref|`` over the parameters."""
    return max(float(np.abs(grads[k] - reference[k]).max() / np.abs(reference[k]).max()) for k in reference)


def benchmark_size(B, T, V, H, *, tf, keras, repeats, warmup, source_repeats, threads):
    model, x, y = make_problem(B, T, V, H)
    keras_step, keras_raw = make_keras_step(tf, keras, model.params, T, V)
    source = SourceStyleRNN(model.params)

    # Agreement first: the three compute what they claim to.
    loss, grads, _ = model.loss(x, y)
    k_loss, k_grads = keras_step(x, y)
    keras_err = max(max_rel_err(k_grads, grads), abs(k_loss - loss) / abs(loss))
    source_err = float("nan")
    if source_repeats > 0:  # this also warms the source-style loop up
        t_loss, t_grads, _ = model.loss(x, y, truncate=SOURCE_TRUNCATE)
        s_loss, s_grads = source.step(x, y)
        source_err = max(max_rel_err(s_grads, t_grads), abs(s_loss - t_loss) / abs(t_loss))

    x_tf, y_tf = tf.constant(x), tf.constant(y)
    fns = {
        "rnnlib": lambda: model.loss(x, y),
        "keras": lambda: keras_raw(x_tf, y_tf)[0].numpy(),
        "source": lambda: source.step(x, y),
        "matmul": make_matmul_replay(B, T, V, H),
    }
    if source_repeats == 0:
        del fns["source"]
    times = time_interleaved(fns, repeats, warmup, limits={"source": source_repeats})
    times.setdefault("source", np.empty((0, 3)))
    gflop = step_gflop(B, T, V, H)
    row = {"B": B, "T": T, "V": V, "H": H, "dtype": np.dtype(DTYPE).name, "threads": threads,
           "gflop": round(gflop, 6), "repeats": repeats,
           "source_repeats": len(times["source"]), "source_truncate": SOURCE_TRUNCATE}
    for name in ("rnnlib", "keras", "source"):
        med, q1, q3 = quartiles_ms(times[name][:, 0])
        row.update({f"{name}_ms": med, f"{name}_q1_ms": q1, f"{name}_q3_ms": q3})
    for name in ("rnnlib", "keras"):
        row[f"{name}_cpu_ms"] = float(np.median(times[name][:, 1])) * 1e3
        row[f"{name}_faults"] = float(np.median(times[name][:, 2]))
    row["matmul_ms"] = quartiles_ms(times["matmul"][:, 0])[0]
    row["rnnlib_over_keras"] = row["rnnlib_ms"] / row["keras_ms"]
    row["rnnlib_over_keras_cpu"] = row["rnnlib_cpu_ms"] / row["keras_cpu_ms"]
    own_gflop = {"rnnlib": rnnlib_step_gflop(B, T, V, H), "keras": keras_step_gflop(B, T, V, H),
                 "matmul": gflop}
    for name, count in own_gflop.items():
        row[f"{name}_gflops"] = count / (row[f"{name}_ms"] / 1e3)
    row["matmul_fraction"] = row["matmul_ms"] / row["rnnlib_ms"]
    row["keras_max_rel_err"] = keras_err
    row["source_max_rel_err"] = source_err
    return row


def format_table(rows) -> str:
    head = (f"{'B':>3} {'T':>4} {'V':>4} {'H':>4} | {'rnnlib ms':>9} {'Keras ms':>9} "
            f"{'source ms':>9} | {'rnnlib/Keras':>12} {'(CPU time)':>10} | {'faults':>6} | "
            f"{'rnnlib GF/s':>11} {'matmul GF/s':>11} {'fraction':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        source = f"{r['source_ms']:>9.1f}" if r["source_repeats"] else f"{'-':>9}"
        lines.append(
            f"{r['B']:>3} {r['T']:>4} {r['V']:>4} {r['H']:>4} | {r['rnnlib_ms']:>9.3f} "
            f"{r['keras_ms']:>9.3f} {source} | {r['rnnlib_over_keras']:>12.2f} {r['rnnlib_over_keras_cpu']:>10.2f} | "
            f"{r['rnnlib_faults']:>6.0f} | {r['rnnlib_gflops']:>11.1f} {r['matmul_gflops']:>11.1f} "
            f"{r['matmul_fraction']:>8.2f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes, few repeats (smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per size (default 40; tiny 3)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed rounds first (default 3; tiny 1)")
    parser.add_argument("--source-repeats", type=int, default=None,
                        help="timed rounds of the slow source-style loop (default 5; tiny 2; 0 skips it)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for numpy's BLAS and TensorFlow (default 1; 0: each library's default)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the CSV and JSON (default benchmarks/results; tiny: a temporary folder)")
    args = parser.parse_args(argv)
    sizes = TINY_SIZES if args.tiny else SIZES
    repeats = args.repeats or (3 if args.tiny else 40)
    warmup = args.warmup if args.warmup is not None else (1 if args.tiny else 3)
    source_repeats = args.source_repeats if args.source_repeats is not None else (2 if args.tiny else 5)
    if args.out is not None:
        out = args.out
    else:
        out = Path(tempfile.mkdtemp(prefix="step_benchmark_")) if args.tiny else ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)

    threads = args.threads or None
    if threads is not None:
        machine.set_blas_threads(threads)
    tf, keras = import_keras(threads)
    info = machine.machine_info(tensorflow=tf)
    info["threads"] = args.threads
    print(machine.describe(info), flush=True)

    rows = []
    for B, T, V, H in sizes:
        print(f"timing (B, T, V, H) = ({B}, {T}, {V}, {H}) ...", flush=True)
        rows.append(benchmark_size(B, T, V, H, tf=tf, keras=keras, repeats=repeats, warmup=warmup,
                                   source_repeats=source_repeats, threads=args.threads))
    info["load_average_1min_end"] = machine.machine_info()["load_average_1min"]

    write_csv(out / "step_benchmark.csv", rows, COLUMNS)
    (out / "step_benchmark.json").write_text(json.dumps(info, indent=1) + "\n")
    print(format_table(rows))
    worst = np.nanmax([[r["keras_max_rel_err"], r["source_max_rel_err"]] for r in rows])
    print(f"largest relative disagreement of losses and gradients: {worst:.1e}")
    print(f"wrote {out / 'step_benchmark.csv'} and {out / 'step_benchmark.json'}")
    return rows


if __name__ == "__main__":
    main()
