"""Describe the machine a benchmark ran on: CPU, cores, numpy's BLAS and its threads.

``machine_info()`` returns a dict that the benchmarks store next to their CSV (as
JSON), so the performance appendix can say what produced its numbers. It reads
/proc/cpuinfo, numpy's build configuration (``np.show_config``), and asks the
OpenBLAS that numpy loaded which kernel it picked and how many threads it uses:
through threadpoolctl when that is installed, otherwise through the two functions
numpy's bundled ``scipy_openblas`` exports (``..._get_corename`` and
``..._get_num_threads``). ``set_blas_threads(n)`` changes that thread count.

OpenBLAS reads ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) at load time; some
machines set them to work around old OpenBLAS bugs, and they can force a slower
kernel than the CPU supports. The benchmarks record whether they were set and
which kernel ran; to benchmark without them, unset both for that one command::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/step_benchmark.py
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import glob
import os
import platform
import sys
from pathlib import Path

import numpy as np

BLAS_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS")
# The vector units numpy's BLAS may use, and those that make TensorFlow switch oneDNN on by
# default on Linux (DefaultOneDnnPolicy in tensorflow/core/util/port.cc: avx512_vnni,
# avx512_bf16, avx_vnni, amx_tile, amx_int8, amx_bf16).
CPU_FLAGS_OF_INTEREST = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                         "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def _cpuinfo() -> dict:
    """Model name, family/model numbers and SIMD flags of the first CPU in /proc/cpuinfo."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"model_name": platform.processor() or platform.machine()}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    return {
        "model_name": fields.get("model name", "unknown"),
        "cpu_family": fields.get("cpu family"),
        "model": fields.get("model"),
        "mhz": fields.get("cpu MHz"),
        "simd_flags": [f for f in CPU_FLAGS_OF_INTEREST if f in flags],
        "virtualized": "hypervisor" in flags,
    }


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _numpy_openblas():
    """numpy's bundled OpenBLAS as a ctypes library, with the symbol prefix it uses, or None."""
    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(folder / "libscipy_openblas*.so*"))):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", "_"), ("openblas", "")):
            if hasattr(lib, f"{prefix}_get_corename{suffix}"):
                return lib, prefix, suffix
    return None


def blas_runtime() -> dict:
    """The BLAS numpy runs now: library, version, kernel (core type) and thread count."""
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        for entry in threadpoolctl.threadpool_info():
            if entry.get("user_api") == "blas" and "numpy" in entry.get("filepath", ""):
                return {"source": "threadpoolctl", "internal_api": entry.get("internal_api"),
                        "version": entry.get("version"), "kernel": entry.get("architecture"),
                        "threads": entry.get("num_threads")}
    found = _numpy_openblas()
    if found is None:
        return {"source": "unknown (no threadpoolctl, no bundled OpenBLAS found)"}
    lib, prefix, suffix = found
    corename = getattr(lib, f"{prefix}_get_corename{suffix}")
    corename.restype = ctypes.c_char_p
    config = getattr(lib, f"{prefix}_get_config{suffix}")
    config.restype = ctypes.c_char_p
    threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
    return {"source": "ctypes (numpy's bundled OpenBLAS)", "internal_api": "openblas",
            "version": config().decode().split()[1], "kernel": corename().decode(), "threads": int(threads())}


def set_blas_threads(n: int) -> None:
    """Make numpy's BLAS use ``n`` threads from now on (threadpoolctl, or the OpenBLAS call)."""
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(n, user_api="blas")
        return
    found = _numpy_openblas()
    if found is None:
        raise RuntimeError("threads: cannot set BLAS threads (install threadpoolctl)")
    lib, prefix, suffix = found
    for name in (f"{prefix}_set_num_threads{suffix}", f"{prefix}_set_num_threads64_"):
        if hasattr(lib, name):
            getattr(lib, name)(ctypes.c_int(n))
            return
    raise RuntimeError("threads: this OpenBLAS exports no set_num_threads function")


def machine_info(*, tensorflow=None) -> dict:
    """A JSON-ready description of this machine and software (pass ``tensorflow`` if imported)."""
    blas_build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info = {
        "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "cpu": _cpuinfo(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_build": {"name": blas_build.get("name"), "version": blas_build.get("version"),
                       "configuration": blas_build.get("openblas configuration")},
        "blas_runtime": blas_runtime(),
        "environment": {name: os.environ.get(name) for name in BLAS_ENVIRONMENT},
        "command": " ".join([Path(sys.executable).name] + sys.argv),
    }
    if tensorflow is not None:
        import keras

        threading = tensorflow.config.threading
        info["tensorflow"] = tensorflow.__version__
        info["keras"] = keras.__version__
        info["tf_threads"] = {"intra_op": threading.get_intra_op_parallelism_threads(),
                              "inter_op": threading.get_inter_op_parallelism_threads(),
                              "note": "0 means TensorFlow's default (one per core)"}
        info["tf_environment"] = {name: os.environ.get(name) for name in ("TF_ENABLE_ONEDNN_OPTS",)}
    return info


def describe(info: dict) -> str:
    """Two or three human-readable lines from ``machine_info()``'s dict."""
    cpu, blas = info["cpu"], info["blas_runtime"]
    env = {k: v for k, v in info["environment"].items() if v is not None}
    lines = [
        f"CPU: {cpu['model_name']} ({info['usable_cpus']} usable of {info['logical_cpus']} logical CPUs"
        f"{', virtual machine' if cpu.get('virtualized') else ''}; SIMD: {', '.join(cpu.get('simd_flags', []))}), "
        f"{info['memory_gib']} GiB memory, load average {info['load_average_1min']} at start",
        f"numpy {info['numpy']} with {info['blas_build']['name']} {blas.get('version')}: kernel "
        f"{blas.get('kernel')}, {blas.get('threads')} threads; BLAS environment: {env or 'none set'}",
    ]
    if "tensorflow" in info:
        lines.append(f"TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
                     f"oneDNN opts {info['tf_environment']['TF_ENABLE_ONEDNN_OPTS']}")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    print(json.dumps(machine_info(), indent=1))
