"""Timing helpers shared by the benchmarks (not a test: nothing here asserts a speed)."""

from __future__ import annotations

import csv
import gc
import resource
import time

import numpy as np


def time_interleaved(fns, repeats, warmup, limits=None):
    """Run each callable of ``fns`` (name -> fn) once per round, rotating the order.

    ``limits`` caps the number of timed rounds of some entries (slow ones, which get
    no warm-up round: the caller has run them once). Warm-up rounds are not timed.
    Returns name -> array
    of shape (rounds, 3): wall-clock seconds, CPU seconds of the process (user +
    system, every thread) and minor page faults, per call.
    """
    limits = limits or {}
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            if name not in limits:
                fns[name]()
    samples = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            if len(samples[name]) >= limits.get(name, repeats):
                continue
            gc.collect()
            gc.disable()
            try:
                faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                cpu = time.process_time()
                start = time.perf_counter()
                fns[name]()
                wall = time.perf_counter() - start
                cpu = time.process_time() - cpu
                faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
                samples[name].append((wall, cpu, faults))
            finally:
                gc.enable()
    return {name: np.array(t, dtype=float).reshape(-1, 3) for name, t in samples.items()}


def quartiles_ms(t):
    if len(t) == 0:
        return float("nan"), float("nan"), float("nan")
    q1, med, q3 = np.percentile(t, [25, 50, 75]) * 1e3
    return med, q1, q3


def write_csv(path, rows, columns):
    """Rows (dicts) to CSV with the given columns; floats to 6 significant digits."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
