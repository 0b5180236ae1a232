"""Compare rnnlib's numpy cuDNN modes with TensorFlow's cuDNN kernels on a GPU; print a table.

Usage (from the repository root, on a machine with a CUDA GPU and TensorFlow):

    python benchmarks/cudnn_gpu_check.py                 # all cases, packing 'auto'
    python benchmarks/cudnn_gpu_check.py --op CudnnRNNV3 --packing canonical_to_params

Cases: the four modes x uni/bidirectional x input modes linear/skip, two layers,
B=3, T=6, H=4 (D=3 for linear input, D=H for skip), random initial states. For each
case the script packs rnnlib's canonical weights into cuDNN's buffer, runs the kernel
in float32 with TF32 off, runs rnnlib in float64 on the same float32 weights, and
reports the largest absolute differences of y, h_n and c_n.

TensorFlow aborts the whole process when a params size does not match (a CHECK in
its kernels), so the cases run in child processes: a crash costs one case, not the
table. ``--packing auto`` tries CudnnRNNCanonicalToParams first and, for the cases
where that fails, concatenates the buffer itself (see rnnlib.cudnn.tf_ops.pack_params).
Exit status 0 when every linear-input case agrees within --atol.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from rnnlib.cudnn import DIRECTIONS, INPUT_MODES, MODES  # noqa: E402  (numpy only, no TensorFlow)

B, T, D, H, LAYERS = 3, 6, 3, 4, 2


def run_case(mode: str, direction: str, input_mode: str, packing: str, op: str) -> dict:
    """One comparison, in this process; returns the differences (or the error)."""
    from rnnlib.cudnn import cudnn_rnn_forward, init_cudnn_params
    from rnnlib.cudnn.tf_ops import cudnn_tf_forward

    rng = np.random.default_rng(0)
    dirs = 2 if direction == "bidirectional" else 1
    d = H if input_mode == "skip" else D
    params32 = init_cudnn_params(mode, d, H, LAYERS, direction, input_mode, rng=rng, dtype=np.float32)
    x = rng.normal(size=(B, T, d)).astype(np.float32)
    h0 = rng.normal(size=(LAYERS * dirs, B, H)).astype(np.float32)
    c0 = rng.normal(size=h0.shape).astype(np.float32) if mode == "lstm" else None
    result = {"mode": mode, "direction": direction, "input_mode": input_mode, "packing": packing}
    try:
        y_gpu, h_gpu, c_gpu = cudnn_tf_forward(
            x, h0, c0, params32, mode, direction=direction, input_mode=input_mode, packing=packing, op=op
        )
    except Exception as e:  # noqa: BLE001 - reported in the table
        return result | {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}
    params = [{k: a.astype(np.float64) for k, a in p.items()} for p in params32]
    y, h_n, c_n, _ = cudnn_rnn_forward(
        x.astype(np.float64), h0.astype(np.float64), None if c0 is None else c0.astype(np.float64),
        params, mode, direction=direction, input_mode=input_mode,
    )
    result["y"] = float(np.abs(y_gpu - y).max())
    result["h"] = float(np.abs(h_gpu - h_n).max())
    result["c"] = float(np.abs(c_gpu - c_n).max()) if mode == "lstm" else None
    return result


def worker(cases: list[str], packing: str, op: str) -> None:
    """Child process: run cases in order, one JSON line each, flushed as soon as known."""
    from rnnlib.tfcompat import import_tensorflow

    tf = import_tensorflow()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    for case in cases:
        mode, direction, input_mode = case.split(",")
        print(json.dumps(run_case(mode, direction, input_mode, packing, op)), flush=True)


def run_in_children(cases: list[tuple], packing: str, op: str, timeout: float) -> dict:
    """Run cases in child processes; a child that dies costs the case it was on."""
    results, todo = {}, list(cases)
    while todo:
        cmd = [sys.executable, __file__, "--worker", "--packing", packing, "--op", op, *[",".join(c) for c in todo]]
        try:
            child = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
            stdout, rc, stderr = child.stdout, child.returncode, child.stderr
        except subprocess.TimeoutExpired as e:
            stdout, rc, stderr = (e.stdout or b"").decode(), "timeout", (e.stderr or b"").decode()
        for line in stdout.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                results[(r["mode"], r["direction"], r["input_mode"])] = r
        todo = [c for c in todo if c not in results]
        if todo:  # the child died on todo[0]
            last = [s for s in stderr.splitlines() if s.strip()][-1:] or [""]
            results[todo[0]] = dict(zip(("mode", "direction", "input_mode"), todo[0], strict=True)) | {
                "packing": packing, "error": f"child process died (rc {rc}): {last[0][:160]}"}
            todo = todo[1:]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packing", choices=("auto", "canonical_to_params", "per_layer_concat"), default="auto")
    parser.add_argument("--op", choices=("CudnnRNN", "CudnnRNNV3"), default="CudnnRNN")
    parser.add_argument("--atol", type=float, default=1e-4, help="agreement threshold (float32 kernels)")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per child process")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("cases", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.cases, args.packing, args.op)
        return 0

    from rnnlib.tfcompat import import_tensorflow

    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    info = tf.sysconfig.get_build_info()
    print(f"TensorFlow {tf.__version__}, built with CUDA {info.get('cuda_version')} "
          f"and cuDNN {info.get('cudnn_version')}; GPUs: {[g.name for g in gpus]}")
    if not gpus:
        print("No GPU visible to TensorFlow: tf.raw_ops.CudnnRNN has GPU kernels only. Nothing to compare.")
        return 2
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        print(f"  {gpu.name}: {details.get('device_name')} compute capability {details.get('compute_capability')}")

    cases = list(itertools.product(MODES, DIRECTIONS, INPUT_MODES))
    start = time.perf_counter()
    first = "canonical_to_params" if args.packing == "auto" else args.packing
    results = run_in_children(cases, first, args.op, args.timeout)
    if args.packing == "auto":
        retry = [c for c in cases if "error" in results[c]]
        if retry:
            fallback = run_in_children(retry, "per_layer_concat", args.op, args.timeout)
            for c in retry:
                fallback[c]["first_error"] = results[c]["error"]
                results[c] = fallback[c]

    print(f"\n{args.op}, {LAYERS} layers, B={B} T={T} H={H}, float32, TF32 off; max |cuDNN - rnnlib|:\n")
    header = f"{'mode':<9} {'direction':<15} {'input':<7} {'packing':<20} {'y':>9} {'h_n':>9} {'c_n':>9}  ok"
    print(header)
    print("-" * len(header))
    all_linear_ok = True
    for c in cases:
        r = results[c]
        if "error" in r:
            ok = False
            cells = f"error: {r['error']}"
        else:
            diffs = [r["y"], r["h"]] + ([r["c"]] if r["c"] is not None else [])
            ok = max(diffs) <= args.atol
            cells = f"{r['y']:9.1e} {r['h']:9.1e} " + (f"{r['c']:9.1e}" if r["c"] is not None else f"{'-':>9}")
            cells += "  yes" if ok else "  NO"
        print(f"{c[0]:<9} {c[1]:<15} {c[2]:<7} {r['packing']:<20} {cells}")
        if "first_error" in r:
            print(f"{'':<33}(canonical_to_params: {r['first_error']})")
        if c[2] == "linear":
            all_linear_ok &= ok
    print(f"\n{time.perf_counter() - start:.0f} s; linear-input cases all within {args.atol:g}: {all_linear_ok}")
    return 0 if all_linear_ok else 1


if __name__ == "__main__":
    sys.exit(main())
