"""The benchmarks still run: both scripts at tiny sizes, their CSVs well formed.

Not a timed test: nothing here compares speeds (timings on a shared CI machine mean
little). It only keeps the scripts that produce the performance appendix's numbers
from rotting: they run, their implementations agree, and they write the columns the
appendix reads. Each script runs in a child process, as from the command line,
so TensorFlow's import stays out of the test process.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import fair_benchmark  # noqa: E402
import machine  # noqa: E402
import peers  # noqa: E402
import scaling  # noqa: E402
import step_benchmark  # noqa: E402


def run_script(name: str, out: Path, *extra: str) -> str:
    result = subprocess.run([sys.executable, str(BENCHMARKS / name), "--tiny", "--out", str(out), *extra],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_step_benchmark_runs_and_writes_its_columns(tmp_path):
    stdout = run_script("step_benchmark.py", tmp_path)
    columns, rows = read_rows(tmp_path / "step_benchmark.csv")
    assert columns == step_benchmark.COLUMNS
    sizes = [tuple(int(r[k]) for k in "BTVH") for r in rows]
    assert sizes == step_benchmark.TINY_SIZES
    for r in rows:
        for name in ("rnnlib_ms", "keras_ms", "matmul_ms", "rnnlib_cpu_ms", "keras_cpu_ms", "gflop"):
            assert float(r[name]) > 0, (name, r)
        assert float(r["keras_max_rel_err"]) < 1e-4  # Keras computes the same loss and gradients
        assert float(r["source_ms"]) > 0 and int(r["source_repeats"]) > 0
        assert float(r["source_max_rel_err"]) < 1e-4  # so does the source-style loop (truncate=4)
    assert (tmp_path / "step_benchmark.json").is_file()
    assert "rnnlib/Keras" in stdout


def test_keras_step_runs_the_products_its_flop_count_counts():
    """keras_step_gflop (rnnlib's products plus the one-hot input's) is what TensorFlow runs."""
    result = subprocess.run([sys.executable, str(BENCHMARKS / "keras_products.py")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"keras_products.py failed:\n{result.stdout}\n{result.stderr}"
    assert "the products executed are exactly these: True" in result.stdout
    assert "their FLOP equal keras_step_gflop: True" in result.stdout


def test_scaling_runs_and_writes_its_columns(tmp_path):
    run_script("scaling.py", tmp_path)
    columns, rows = read_rows(tmp_path / "scaling.csv")
    assert columns == scaling.COLUMNS
    assert len(rows) == len(scaling.TINY_LENGTHS) * len(scaling.TINY_MODES)
    assert {r["mode"] for r in rows} == {mode for mode, _ in scaling.TINY_MODES}
    for r in rows:
        assert float(r["time_ms"]) > 0 and float(r["peak_mib"]) > 0, r
    assert (tmp_path / "scaling.json").is_file()


def test_machine_info_describes_cpu_and_blas():
    info = machine.machine_info()
    assert info["cpu"]["model_name"]
    assert info["logical_cpus"] >= 1
    assert set(machine.BLAS_ENVIRONMENT) <= set(info["environment"])
    assert "kernel" in info["blas_runtime"] or "unknown" in info["blas_runtime"]["source"]
    assert "numpy" in machine.describe(info)


@pytest.mark.parametrize("size", step_benchmark.TINY_SIZES)
def test_source_style_loop_matches_rnnlib_truncated_bptt(size):
    """The reference loop of the benchmark computes rnnlib's truncate=4 gradients."""
    model, x, y = step_benchmark.make_problem(*size)
    loss, grads, _ = model.loss(x, y, truncate=step_benchmark.SOURCE_TRUNCATE)
    s_loss, s_grads = step_benchmark.SourceStyleRNN(model.params).step(x, y)
    assert abs(s_loss - loss) <= 1e-5 * abs(loss)
    assert step_benchmark.max_rel_err(s_grads, grads) < 1e-5


def test_core_versions_times_two_rnnlibs_that_agree_bit_for_bit():
    """benchmarks/core_versions.py against HEAD's committed rnnlib (present in any clone): it
    imports the exported copy beside this one, checks they agree, and prints one ratio per step."""
    result = subprocess.run([sys.executable, str(BENCHMARKS / "core_versions.py"), "HEAD", "--tiny"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.rstrip().endswith(tuple("0123456789"))
            and ("loss" in line or "update" in line)]
    assert len(rows) == 2 * len(step_benchmark.TINY_SIZES), result.stdout
    assert "largest new/old:" in result.stdout


def run_fair(out: Path, impls: str, *extra: str) -> list[dict]:
    result = subprocess.run([sys.executable, str(BENCHMARKS / "fair_benchmark.py"), "--tiny", "--threads", "1",
                             "--impls", impls, "--out", str(out), *extra],
                            cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"fair_benchmark.py failed:\n{result.stdout}\n{result.stderr}"
    columns, rows = read_rows(out / "fair_steps.csv")
    assert columns == fair_benchmark.COLUMNS
    assert (out / "fair_steps.json").is_file()
    return rows


def check_fair_rows(rows, impls):
    for r in rows:
        assert r["impl"] in impls and r["config"] == peers.CONFIG[r["impl"]]
        assert float(r["median_ms"]) > 0 and float(r["gflop"]) > 0, r
        assert float(r["faults_per_step"]) >= 0
        if r["impl"] != "products":
            assert float(r["max_rel_err"]) < 1e-4, r  # every side computes the same loss and gradients


def test_fair_benchmark_runs_its_phases(tmp_path):
    """The numpy sides, eager Keras-less peers: every phase, the sweeps with the fastest other peer."""
    impls = "rnnlib,rnnlib_shown,rnnlib_nomalloc,numpy,torch,products"
    rows = run_fair(tmp_path, impls)
    check_fair_rows(rows, impls.split(","))
    sizes = {(r["phase"], tuple(int(r[k]) for k in "BTVH")) for r in rows}
    assert sizes == ({("sizes", s) for s in fair_benchmark.TINY_SIZES}
                     | {("T sweep", s) for s in fair_benchmark.TINY_T_SWEEP}
                     | {("H sweep", s) for s in fair_benchmark.TINY_H_SWEEP})
    assert {r["impl"] for r in rows if r["phase"] != "sizes"} == {"rnnlib", "numpy", "products", "torch"}
    assert all(float(r["rnnlib_over"]) == 1 for r in rows if r["impl"] == "rnnlib")


@pytest.mark.skipif(os.environ.get("RNNLIB_BENCH_ALL") != "1", reason="minutes; set RNNLIB_BENCH_ALL=1")
def test_fair_benchmark_runs_every_peer(tmp_path):
    """Keras (XLA, graph, fit) and torch.compile too (compiling takes minutes): the tiny sizes."""
    impls = ",".join(fair_benchmark.IMPLS)
    rows = run_fair(tmp_path, impls, "--no-sweeps")
    check_fair_rows(rows, fair_benchmark.IMPLS)
    assert {r["impl"] for r in rows} == set(fair_benchmark.IMPLS)


def test_flop_counts_of_the_peers():
    B, T, V, H = 2, 3, 5, 4
    shared = 2 * B * T * (3 * H * H + 3 * H * V) / 1e9
    assert peers.step_gflop(B, T, V, H) == shared == peers.gflop("products", B, T, V, H)
    assert peers.gflop("rnnlib", B, T, V, H) == shared + 2 * B * T * V * H / 1e9  # dW by one-hot (V <= 4H)
    assert peers.gflop("rnnlib", B, T, 17, H) == peers.step_gflop(B, T, 17, H)  # scatter-add above 4H
    for impl in ("keras_xla", "keras_fit", "torch", "torch_compile"):  # + the one-hot input product
        assert peers.gflop(impl, B, T, V, H) == shared + 4 * B * T * V * H / 1e9
