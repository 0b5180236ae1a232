"""Time one training step of rnnlib against its peers at their best, each in a process of its own.

Run from the repository root, on a quiet machine (about 20 minutes with 2 cores; this is
how the committed ``fair_steps.csv`` and ``fair_steps.json`` were made)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/fair_benchmark.py

The step and the implementations are in ``peers.py``: rnnlib, a plain numpy step, Keras 3
(XLA, tf.function without XLA, model.fit's train_on_batch; TensorFlow's oneDNN as shipped),
PyTorch (eager and torch.compile) and the step's matrix products alone (the limit). The
design follows the independent audit's harness (benchmarks/audit-2026-11):

- one worker process per implementation, started with its own environment (thread
  counts set before numpy, TensorFlow or torch is imported, no malloc tuning inherited),
  kept alive, and never running while another one runs;
- before timing, each worker checks its loss and gradients against rnnlib's in float64
  on the same parameters and batch (``max_rel_err``), then takes warm-up steps;
- a coordinator runs rounds: in each, every worker in turn (the order rotates by one per
  round) sleeps briefly (idle thread pools settle), takes one untimed step, then
  ``--block`` timed back-to-back steps, the steady state of a training loop; the median
  of those is the round's sample. ``os.getloadavg()`` is recorded before and after each round;
- every side applies its SGD update in the timed step; numpy's BLAS, TensorFlow (intra-
  and inter-op) and torch get the same number of threads: 1, then 2;
- page faults are counted per timed step (``getrusage`` minor faults), and peak memory
  per step is the growth of the resident set (VmHWM, reset through
  /proc/self/clear_refs) over its size between steps.

Sizes (B, T, V, H): (1, 25, 65, 100), (32, 64, 65, 128), (32, 64, 65, 512) at 1 and 2
threads; then, at 1 thread, a T sweep (32, T, 65, 128) for T = 16..1024 and an H sweep
(32, 64, 65, H) for H = 64..1024 with rnnlib, the plain numpy step, the products alone and
the fastest other peer at (32, 64, 65, 128) and 1 thread.

Writes ``fair_steps.csv`` (one row per phase, size, thread count and implementation)
and ``fair_steps.json`` (machine, loads, every sample) into ``--out`` (default
benchmarks/results). ``--tiny`` runs tiny sizes, two rounds, into a temporary folder
(the smoke test). Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402

SIZES = [(1, 25, 65, 100), (32, 64, 65, 128), (32, 64, 65, 512)]
T_SWEEP = [(32, T, 65, 128) for T in (16, 32, 64, 128, 256, 512, 1024)]
H_SWEEP = [(32, 64, 65, H) for H in (64, 128, 256, 512, 1024)]
TINY_SIZES = [(2, 5, 7, 8), (3, 4, 6, 5)]
TINY_T_SWEEP = [(2, T, 7, 8) for T in (4, 8)]
TINY_H_SWEEP = [(2, 5, 7, H) for H in (4, 8)]
IMPLS = ["rnnlib", "rnnlib_shown", "rnnlib_nomalloc", *peers.PEERS, "products"]
SWEEP_FIXED = ["rnnlib", "numpy", "products"]

COLUMNS = ["phase", "B", "T", "V", "H", "threads", "impl", "config", "rounds", "block",
           "median_ms", "q1_ms", "q3_ms", "cpu_ms", "rnnlib_over", "rnnlib_over_q1", "rnnlib_over_q3",
           "gflop", "gflops", "faults_per_step", "peak_mib", "rss_mib", "setup_s", "max_rel_err"]


# ------------------------------------------------------------------ worker --


def status_mib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(impl, threads):
    """Serve commands (JSON lines on stdin) for one implementation; answer on the original stdout."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answers
    import gc
    import resource

    import machine
    import numpy as np

    machine.set_blas_threads(threads)
    extra = {}
    if impl.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
        extra["torch"] = torch.__version__
    if impl.startswith("keras"):
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.get_logger().setLevel("ERROR")
        extra.update(tensorflow=tf.__version__, keras=keras.__version__,
                     onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow's default)"))
    step = None

    def answer(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    answer({"ready": True, **extra})
    for line in sys.stdin:
        cmd = json.loads(line)
        if "setup" in cmd:
            step = None
            gc.collect()
            B, T, V, H = cmd["setup"]
            params, x, y = peers.problem(B, T, V, H)
            start = time.perf_counter()
            step, grads = peers.MAKERS[impl](params, x, y)
            err = float("nan")
            if grads is not None:
                ref_loss, ref = peers.reference_grads(params, x, y)
                loss, g = grads()
                err = max(abs(loss - ref_loss) / abs(ref_loss),
                          *(float(np.abs(g[k] - ref[k]).max() / np.abs(ref[k]).max()) for k in ref))
            for _ in range(cmd.get("warmup", 3)):
                step()
            info = {"setup_s": time.perf_counter() - start, "max_rel_err": err}
            if impl == "torch_compile":
                info.update(peers.torch_compile_report())
            answer(info)
        elif "time" in cmd:
            step()  # untimed: the thread pools wake up
            samples = []
            gc.disable()
            for _ in range(cmd["time"]):
                faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                cpu = time.process_time()
                t0 = time.perf_counter()
                step()
                wall = time.perf_counter() - t0
                cpu = time.process_time() - cpu
                samples.append((wall, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults))
            gc.enable()
            answer({"samples": samples})
        elif "memory" in cmd:
            step()
            rss = status_mib("VmRSS")
            try:
                Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
                for _ in range(cmd["memory"]):
                    step()
                peak = status_mib("VmHWM") - rss
            except OSError:
                peak = float("nan")
            answer({"rss_mib": rss, "peak_mib": peak})
        elif "stop" in cmd:
            break


# ------------------------------------------------------------- coordinator --


class Worker:
    def __init__(self, impl, threads, logdir):
        self.impl = impl
        self.log = open(Path(logdir) / f"{impl}-{threads}.log", "w")
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", impl, "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=peers.os_environ_for(impl, threads), cwd=ROOT)
        self.info = self.ask(None)

    def ask(self, cmd):
        if cmd is not None:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.log.flush()
            tail = Path(self.log.name).read_text()[-3000:]
            raise RuntimeError(f"worker {self.impl} died; its log ends with:\n{tail}")
        return json.loads(line)

    def stop(self):
        try:
            self.proc.stdin.write(json.dumps({"stop": True}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        finally:
            self.log.close()


def median_quartiles(values):
    import numpy as np

    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return float(med), float(q1), float(q3)


def measure(workers, size, threads, phase, args, record, rounds):
    """Set every worker up for ``size``, run ``rounds`` rounds, measure memory; return CSV rows."""
    import numpy as np

    B, T, V, H = size
    setups = {}
    for name, w in workers.items():
        setups[name] = w.ask({"setup": list(size), "warmup": args.warmup})
    names = list(workers)
    samples = {name: [] for name in names}
    loads = []
    for r in range(rounds):
        before = os.getloadavg()
        k = r % len(names)
        for name in names[k:] + names[:k]:
            time.sleep(args.sleep)
            turn = workers[name].ask({"time": args.block})["samples"]
            turn.sort()
            samples[name].append(turn[len(turn) // 2])  # (wall, cpu, faults) of the median step
        loads.append((before[0], os.getloadavg()[0]))
    memory = {name: w.ask({"memory": 3}) for name, w in workers.items()}
    rows = []
    for name in names:
        a = np.array(samples[name])
        med, q1, q3 = median_quartiles(a[:, 0] * 1e3)
        row = {"phase": phase, "B": B, "T": T, "V": V, "H": H, "threads": threads, "impl": name,
               "config": peers.CONFIG[name], "rounds": rounds, "block": args.block,
               "median_ms": med, "q1_ms": q1, "q3_ms": q3, "cpu_ms": float(np.median(a[:, 1])) * 1e3,
               "gflop": peers.gflop(name, B, T, V, H), "faults_per_step": float(np.median(a[:, 2])),
               "peak_mib": memory[name]["peak_mib"], "rss_mib": memory[name]["rss_mib"],
               "setup_s": setups[name]["setup_s"], "max_rel_err": setups[name]["max_rel_err"]}
        row["gflops"] = row["gflop"] / (med / 1e3)
        if "rnnlib" in samples:
            paired = np.array(samples["rnnlib"])[:, 0] / a[:, 0]  # same round, rnnlib / this
            row["rnnlib_over"], row["rnnlib_over_q1"], row["rnnlib_over_q3"] = median_quartiles(paired)
        rows.append(row)
    record.append({"phase": phase, "size": size, "threads": threads, "loads": loads, "setup": setups,
                   "samples": {n: samples[n] for n in names}})
    print(f"{phase} {size} threads={threads} load {loads[0][0]:.2f} -> {loads[-1][1]:.2f}", flush=True)
    for row in rows:
        print(f"  {row['impl']:16s} {row['median_ms']:10.3f} ms  [{row['q1_ms']:.3f}, {row['q3_ms']:.3f}]"
              f"  rnnlib/this {row.get('rnnlib_over', float('nan')):5.2f}  faults {row['faults_per_step']:6.0f}"
              f"  peak {row['peak_mib']:7.1f} MiB  err {row['max_rel_err']:.1e}  setup {row['setup_s']:.1f} s",
              flush=True)
    return rows


def run(args):
    import machine
    from timing import write_csv

    sizes, t_sweep, h_sweep = ((TINY_SIZES, TINY_T_SWEEP, TINY_H_SWEEP) if args.tiny
                               else (SIZES, T_SWEEP, H_SWEEP))
    impls = args.impls.split(",")
    logdir = tempfile.mkdtemp(prefix="fair_benchmark_logs_")
    info = machine.machine_info()
    info.update(threads=args.threads, rounds=args.rounds, sweep_rounds=args.sweep_rounds, block=args.block,
                sleep_s=args.sleep, impls=impls, worker_logs=logdir, configs=peers.CONFIG)
    print(machine.describe(info), flush=True)
    print(f"worker logs in {logdir}", flush=True)
    rows, record = [], []
    started = time.time()
    for threads in [int(t) for t in args.threads.split(",")]:
        workers = {}
        try:
            for name in impls:
                workers[name] = Worker(name, threads, logdir)
                info.setdefault("runtimes", {}).update({k: v for k, v in workers[name].info.items()
                                                        if k != "ready"})
            for size in sizes:
                rows += measure(workers, size, threads, "sizes", args, record, args.rounds)
            if threads == args.sweep_threads and not args.no_sweeps:
                middle = [r for r in rows if r["threads"] == threads and (r["B"], r["T"], r["V"], r["H"]) == sizes[1]]
                others = [r for r in middle if r["impl"] in peers.PEERS and r["impl"] != "numpy"]
                best = min(others, key=lambda r: r["median_ms"])["impl"] if others else None
                best = best if args.sweep_peer == "auto" else args.sweep_peer
                info["sweep_peer"] = best
                sweep_workers = {n: workers[n] for n in SWEEP_FIXED + ([best] if best else []) if n in workers}
                for name in set(workers) - set(sweep_workers):  # free the machine for the sweeps
                    workers.pop(name).stop()
                for phase, sweep in (("T sweep", t_sweep), ("H sweep", h_sweep)):
                    for size in sweep:
                        rows += measure(sweep_workers, size, threads, phase, args, record, args.sweep_rounds)
        finally:
            for w in workers.values():
                w.stop()
    info["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    info["duration_min"] = round((time.time() - started) / 60, 1)
    out = args.out or (Path(tempfile.mkdtemp(prefix="fair_benchmark_")) if args.tiny
                       else ROOT / "benchmarks" / "results")
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "fair_steps.csv", rows, COLUMNS)
    (out / "fair_steps.json").write_text(json.dumps({"machine": info, "rounds": record}, indent=1) + "\n")
    print(f"took {info['duration_min']} min; wrote {out / 'fair_steps.csv'} and {out / 'fair_steps.json'}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="1,2", help="thread counts, in order (default 1,2)")
    parser.add_argument("--impls", default=",".join(IMPLS), help="implementations (peers.MAKERS)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per size (default 15; tiny 2)")
    parser.add_argument("--sweep-rounds", type=int, default=None, help="rounds per sweep size (default 8; tiny 2)")
    parser.add_argument("--block", type=int, default=None, help="timed steps per turn (default 3; tiny 1)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps after setup (default 3)")
    parser.add_argument("--sleep", type=float, default=0.1, help="seconds before each turn (default 0.1)")
    parser.add_argument("--sweep-threads", type=int, default=1, help="thread count of the T and H sweeps")
    parser.add_argument("--sweep-peer", default="auto",
                        help="the peer of the sweeps (default auto: the fastest other peer at the second size)")
    parser.add_argument("--no-sweeps", action="store_true", help="only the three sizes")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, 2 rounds (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV and JSON")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, int(args.threads))
    args.rounds = args.rounds or (2 if args.tiny else 15)
    args.sweep_rounds = args.sweep_rounds or (2 if args.tiny else 8)
    args.block = args.block or (1 if args.tiny else 3)
    return run(args)


if __name__ == "__main__":
    main()
