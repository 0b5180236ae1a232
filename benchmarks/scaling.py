"""How the cost of a training step grows with the sequence length T, for each form of BPTT.

Run from the repository root (with the step benchmark, this is how the committed
CSVs were made)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/step_benchmark.py \
        && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/scaling.py

For T = 16, 32, ..., 1024 it times one rnnlib training step of a float32
``RNNLanguageModel`` (B = 16, V = 65, H = 128: forward, summed loss, backward, all
gradients) with each backward pass of ``rnn_backward``:

full
    full BPTT, one backward sweep: O(T) time and memory. Timed through the functions the
    chapters show, as the other modes are (``model.loss`` takes a faster path for full
    BPTT; ``fair_benchmark.py`` times that one).
window
    the source's per-output truncation computed literally (``truncate=k``): output t
    sends its gradient back through k steps on its own, a double loop of O(T k)
    matrix products -- k = 4 (the source's ``bptt_truncate``) and k = 16.
chunk
    the stateful truncation of min-char-rnn (``chunk=c``, c = 16): one sweep whose
    gradient stops at every chunk start, O(T).

Every (T, mode) pair runs in turn, round after round (the first round untimed);
the CSV keeps the median and quartiles of the wall-clock time. Peak memory is
measured in separate calls with ``tracemalloc``, which sees numpy's array
allocations: the largest amount allocated during the step above what was allocated
before it (the model's parameters and the data are not counted).

Writes ``scaling.csv`` and ``scaling.json`` into ``--out`` (default
``benchmarks/results``); ``--tiny`` runs small sizes into a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
import numpy as np  # noqa: E402
from timing import quartiles_ms, time_interleaved, write_csv  # noqa: E402

from rnnlib import RNNLanguageModel  # noqa: E402
from rnnlib.models import _checked_loss  # noqa: E402

SHAPE = {"B": 16, "V": 65, "H": 128}
LENGTHS = [16, 32, 64, 128, 256, 512, 1024]
MODES = [("full", None), ("window", 4), ("window", 16), ("chunk", 16)]
TINY_SHAPE = {"B": 2, "V": 7, "H": 8}
TINY_LENGTHS = [4, 8, 16]
TINY_MODES = [("full", None), ("window", 2), ("chunk", 4)]
DTYPE = np.float32

COLUMNS = ["mode", "k", "B", "V", "H", "T", "dtype", "threads", "repeats",
           "time_ms", "time_q1_ms", "time_q3_ms", "peak_mib"]


def mode_kwargs(mode, k):
    """The keyword arguments of ``RNNLanguageModel.loss`` for one mode."""
    return {"full": {}, "window": {"truncate": k}, "chunk": {"chunk": k}}[mode]


def make_step(model, B, T, mode, k, seed=0):
    """One training step of ``model`` on random ids (B, T), with the backward pass of ``mode``."""
    rng = np.random.default_rng(seed + T)
    V = model.input_size
    x, y = rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))
    if mode == "full":  # through the shown functions, like the other modes (not model.loss's fast path)
        return lambda: _checked_loss(model, x, y, None, "sum")
    kwargs = mode_kwargs(mode, k)
    return lambda: model.loss(x, y, **kwargs)


def peak_mib(step) -> float:
    """Largest extra memory (MiB) numpy allocated during one call of ``step``."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes, few repeats (smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15; tiny 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for numpy's BLAS (default 1; 0: OpenBLAS's default)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the CSV and JSON (default benchmarks/results; tiny: a temporary folder)")
    args = parser.parse_args(argv)
    shape = TINY_SHAPE if args.tiny else SHAPE
    lengths = TINY_LENGTHS if args.tiny else LENGTHS
    modes = TINY_MODES if args.tiny else MODES
    repeats = args.repeats or (2 if args.tiny else 15)
    if args.out is not None:
        out = args.out
    else:
        out = Path(tempfile.mkdtemp(prefix="scaling_")) if args.tiny else ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    if args.threads:
        machine.set_blas_threads(args.threads)
    info = machine.machine_info()
    info["threads"] = args.threads
    print(machine.describe(info), flush=True)

    model = RNNLanguageModel(shape["V"], shape["H"], rng=0, dtype=DTYPE)
    cases = [(T, mode, k) for T in lengths for mode, k in modes]
    steps = {case: make_step(model, shape["B"], *case) for case in cases}
    print(f"{repeats} interleaved rounds after one warm-up round ...", flush=True)
    times = time_interleaved(steps, repeats, warmup=1)

    rows = []
    for T, mode, k in cases:
        med, q1, q3 = quartiles_ms(times[(T, mode, k)][:, 0])
        rows.append({"mode": mode, "k": "" if k is None else k, **shape, "T": T, "dtype": np.dtype(DTYPE).name,
                     "threads": args.threads, "repeats": repeats, "time_ms": med, "time_q1_ms": q1,
                     "time_q3_ms": q3, "peak_mib": peak_mib(steps[(T, mode, k)])})
    info["load_average_1min_end"] = machine.machine_info()["load_average_1min"]

    write_csv(out / "scaling.csv", rows, COLUMNS)
    (out / "scaling.json").write_text(json.dumps(info, indent=1) + "\n")

    print(f"{'mode':>7} {'k':>3} " + " ".join(f"{T:>9}" for T in lengths) + "   (median ms; peak MiB below)")
    for mode, k in modes:
        sel = [r for r in rows if r["mode"] == mode and r["k"] == ("" if k is None else k)]
        print(f"{mode:>7} {'' if k is None else k:>3} " + " ".join(f"{r['time_ms']:>9.2f}" for r in sel))
        print(f"{'':>11} " + " ".join(f"{r['peak_mib']:>9.2f}" for r in sel))
    print(f"wrote {out / 'scaling.csv'} and {out / 'scaling.json'}")
    return rows


if __name__ == "__main__":
    main()
