"""Measure how much a notebook's trained results move under rounding noise, for its pass marks.

A chapter that trains prints its results as checks against pass marks (``below 2.5: True``).
A mark is only honest if it leaves room for the run-to-run spread: another CPU sums a matrix
product in another order, and training amplifies that last-bit difference. This tool measures
the spread, so that the chapter can print it next to its marks instead of quoting numbers
nobody can re-derive:

    python -m tools.margins book/06_training.ipynb      (or: ./dev margins book/06_training.ipynb)

It executes the notebook several times in fresh kernels, each run a *variant*:

- OpenBLAS with 1 thread and with 2 threads (another summation order in every large product);
- 1 thread with every parameter of every rnnlib model multiplied, right after it is built, by
  ``1 + 1e-12 * r`` with ``r`` standard normal from a seeded generator (two seeds): a nudge of
  thousands of float64 ulps (one ulp is at most 2.2e-16 relative), not a rounding, but far too small
  to matter to a model, which training amplifies as it amplifies a different machine's
  roundings (a notebook that sets a parameter after building the model, as Chapter 3's
  clipping runs set U, leaves that parameter unperturbed);
- 1 thread with every integer seed the notebook passes to ``numpy.random.default_rng`` replaced
  by another (three draws): new data, new initial weights, a new run of the same experiment,
  which tells whether a result holds or was one lucky draw.

After a cell whose metadata holds ``{"margins": {"name": "expression", ...}}``, it evaluates each
expression in the kernel and records the value as a float. The values of all runs go to
``margins/NAME.json`` beside the notebook, with the variants, the machine and a hash of the
notebook's code cells; ``tests/test_margins.py`` fails when the code has changed since (so the
spread printed cannot be stale), and ``rnnlib.display.Margins`` prints a recorded spread
against a mark. The cell metadata is invisible on the page; a reader sees the printed spread.
The runs skip the cells that print a spread (those that call ``Margins(``) and stop after the
last recording cell.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import nbformat

PERTURBATION = 1e-12
PERTURBATION_SEEDS = (1, 2)
RESEEDS = (1, 2, 3)

# Runs before the notebook's first cell (so numpy starts with this variant's threads) and is
# not stored anywhere. It perturbs the parameters of every model rnnlib builds, or reseeds.
PRELUDE = '''
import numpy as _np
import rnnlib as _rnnlib

if {reseed!r} is not None:
    _default_rng = _np.random.default_rng
    def _reseeded(seed=None):
        if isinstance(seed, (int, _np.integer)) and not isinstance(seed, bool):
            return _default_rng([int(seed), {reseed!r}])
        return _default_rng(seed)
    _np.random.default_rng = _reseeded

def _perturb_after_init(cls, rng, scale):
    init = cls.__init__
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        for a in self.params.values():
            a *= 1 + scale * rng.standard_normal(a.shape)
    cls.__init__ = __init__

if {seed!r} is not None:
    _rng = _np.random.default_rng({seed!r})
    for _cls in (_rnnlib.RNNLanguageModel, _rnnlib.RNNClassifier, _rnnlib.Seq2Seq, _rnnlib.CellClassifier,
                 _rnnlib.MinGRULanguageModel):
        _perturb_after_init(_cls, _rng, {scale!r})
'''


def is_colab_bootstrap(cell) -> bool:
    """The first cell tools/nbbuild.py writes (tools/publish.py rewrites it with the URL); a
    no-op wherever rnnlib is installed, so what a notebook measures never depends on it."""
    return cell.source.startswith(("# Colab install cell:", "# In Colab (or anywhere rnnlib is missing)"))


def code_hash(nb) -> str:
    """sha256 of every code cell's source and margins metadata (the Colab bootstrap left out):
    what the recorded values depend on."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_colab_bootstrap(cell):
            h.update(cell.source.encode())
            h.update(json.dumps(cell.metadata.get("margins", {}), sort_keys=True).encode())
    return h.hexdigest()


def recorded_names(nb) -> list[str]:
    return [name for cell in nb.cells for name in cell.metadata.get("margins", {})]


def variants() -> list[dict]:
    plain = {"threads": 1, "perturbation_seed": None, "reseed": None}
    return ([plain, {**plain, "threads": 2}]
            + [{**plain, "perturbation_seed": s} for s in PERTURBATION_SEEDS]
            + [{**plain, "reseed": k} for k in RESEEDS])


def describe(variant: dict) -> str:
    change = "as committed"
    if variant.get("perturbation_seed") is not None:
        change = f"initial weights x (1 + {PERTURBATION:g} r), r drawn with seed {variant['perturbation_seed']}"
    if variant.get("reseed") is not None:
        change = f"every seed s replaced by the pair (s, {variant['reseed']})"
    return f"{variant['threads']} BLAS thread{'s' if variant['threads'] > 1 else ''}, {change}"


def run_variant(path: str, variant: dict, timeout: int = 1200) -> dict[str, float]:
    """Execute the notebook once under ``variant``; return {name: value} for every recorded name."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(variant["threads"]), PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "values.jsonl"
        # The notebook's code cells, the prelude first and a probe after each recording cell
        # that appends its values, as JSON, to a file outside the notebook.
        cells = [nbformat.v4.new_code_cell(
            PRELUDE.format(seed=variant.get("perturbation_seed"), scale=PERTURBATION,
                           reseed=variant.get("reseed")))]
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        last = max(i for i, cell in enumerate(code) if cell.metadata.get("margins"))
        for cell in code[:last + 1]:  # nothing after the last recording cell matters here
            if "Margins(" in cell.source:
                continue  # it prints the spread this run is measuring
            cells.append(cell)
            exprs = cell.metadata.get("margins", {})
            if exprs:
                values = ", ".join(f"{name!r}: float({expr})" for name, expr in exprs.items())
                cells.append(nbformat.v4.new_code_cell(
                    f"import json as _json\nwith open({str(out)!r}, 'a') as _f:\n"
                    f"    _f.write(_json.dumps({{{values}}}) + '\\n')"))
        run = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
        NotebookClient(run, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute(env=env)
        values = {}
        for line in out.read_text().splitlines():
            values.update(json.loads(line))
    return values


def measure(path: str, jobs: int = 1) -> dict:
    nb = nbformat.read(path, as_version=4)
    names = recorded_names(nb)
    if not names:
        raise SystemExit(f"{path}: no cell has 'margins' metadata; nothing to measure")
    runs = variants()
    results: list[dict | None] = [None] * len(runs)
    # The 2-thread run uses both cores; the 1-thread runs may share the machine.
    parallel = [i for i, r in enumerate(runs) if r["threads"] == 1]
    serial = [i for i, r in enumerate(runs) if r["threads"] != 1]
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_variant, path, runs[i]): i for i in parallel}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            print(f"  run {i + 1}/{len(runs)} ({describe(runs[i])}): done", flush=True)
    for i in serial:
        results[i] = run_variant(path, runs[i])
        print(f"  run {i + 1}/{len(runs)} ({describe(runs[i])}): done", flush=True)
    return {
        "notebook": Path(path).name,
        "code_sha256": code_hash(nb),
        "measured_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{_cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "perturbation": PERTURBATION,
        "runs": [describe(r) for r in runs],
        "values": {name: [r[name] for r in results] for name in names},
    }


def margins_path(notebook: str | Path) -> Path:
    notebook = Path(notebook)
    return notebook.parent / "margins" / f"{notebook.stem}.json"


def margins_problems(notebook: str | Path) -> list[str]:
    """Why the recorded spread of a notebook cannot be trusted (empty: it can, or none is needed)."""
    nb = nbformat.read(notebook, as_version=4)
    names = recorded_names(nb)
    path = margins_path(notebook)
    if not names:
        return [f"{path} exists but no cell records margins"] if path.exists() else []
    if not path.is_file():
        return [f"{notebook}: records margins but {path} is missing (run ./dev margins {notebook})"]
    record = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    if record.get("code_sha256") != code_hash(nb):
        problems.append(f"{path}: measured on other code than {notebook} has now "
                        f"(re-measure: ./dev margins {notebook})")
    if sorted(record.get("values", {})) != sorted(names):
        problems.append(f"{path}: records {sorted(record.get('values', {}))}, the notebook {sorted(names)}")
    for name, values in record.get("values", {}).items():
        if len(values) != len(record.get("runs", [])) or not all(v == v and abs(v) != float("inf") for v in values):
            problems.append(f"{path}: {name} needs one finite value per run, got {values}")
    return problems


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--jobs", type=int, default=2, help="1-thread runs executed at once (default 2)")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"measuring {path}", flush=True)
        result = measure(path, jobs=args.jobs)
        out = margins_path(path)
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
