"""Time step_benchmark.py's language-model step with this rnnlib against an earlier commit's.

Run from the repository root, for instance against 36e84db, the last commit before the plain-core rewrite::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/core_versions.py 36e84db

The earlier rnnlib is exported with ``git archive`` into a temporary folder and imported
under the name ``rnnlib_baseline``, so both versions run in one process, on the same
problems (``step_benchmark.make_problem``: float32, token ids, the three benchmark sizes),
interleaved round by round with the order rotated (``timing.time_interleaved``), one BLAS
thread. Two steps are timed for each version:

``loss``
    ``model.loss(x, y)``: forward pass, summed cross-entropy, full BPTT, every gradient
    (step_benchmark's rnnlib step).
``update``
    the same, then ``clip_by_global_norm(grads, 5)`` and ``SGD(0.01).step``: what one
    iteration of the training loop does.

Both versions must agree on the loss and gradients bit for bit before anything is timed.
The table gives medians of wall-clock time and new/old ratios, also written to
``benchmarks/results/core_versions.csv`` (``--out``) with the machine description beside
it; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
import numpy as np  # noqa: E402
from step_benchmark import SIZES, TINY_SIZES, make_problem  # noqa: E402
from timing import quartiles_ms, time_interleaved, write_csv  # noqa: E402

import rnnlib  # noqa: E402

BASELINE = "rnnlib_baseline"
COLUMNS = ["B", "T", "V", "H", "step", "new_ms", "new_q1_ms", "new_q3_ms", "old_ms", "old_q1_ms",
           "old_q3_ms", "new_over_old", "repeats", "baseline"]


def import_baseline(ref: str):
    """rnnlib as of git ``ref``, imported as the package ``rnnlib_baseline``."""
    archive = subprocess.run(["git", "archive", ref, "rnnlib"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="rnnlib_baseline_"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "rnnlib").rename(folder / BASELINE)
    for path in (folder / BASELINE).rglob("*.py"):  # absolute imports name the package
        text = path.read_text()
        path.write_text(text.replace("from rnnlib.", f"from {BASELINE}.")
                        .replace("from rnnlib import", f"from {BASELINE} import"))
    sys.path.insert(0, str(folder))
    return importlib.import_module(BASELINE)


def steps(lib, B, T, V, H):
    model, x, y = make_problem(B, T, V, H)
    model = lib.RNNLanguageModel.from_params({k: v.copy() for k, v in model.params.items()})
    optimizer = lib.SGD(0.01)

    def update():
        _, grads, _ = model.loss(x, y)
        grads, _ = lib.clip_by_global_norm(grads, 5.0)
        optimizer.step(model.params, grads)

    return model, x, y, (lambda: model.loss(x, y)), update


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", help="the earlier commit or tag, e.g. 36e84db")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="small sizes, 3 rounds (smoke test)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for core_versions.csv and .json (default benchmarks/results; "
                             "tiny: none written)")
    args = parser.parse_args(argv)
    machine.set_blas_threads(1)
    old = import_baseline(args.ref)
    info = machine.machine_info()
    print(machine.describe(info), flush=True)
    sizes, repeats = (TINY_SIZES, 3) if args.tiny else (SIZES, args.repeats)
    print(f"{'B':>3} {'T':>3} {'V':>3} {'H':>4}  {'step':6}  {'new ms':>8}  {'old ms':>8}  new/old")
    rows = []
    for B, T, V, H in sizes:
        new_model, x, y, new_loss, new_update = steps(rnnlib, B, T, V, H)
        old_model, _, _, old_loss, old_update = steps(old, B, T, V, H)
        (a, ga, _), (b, gb, _) = new_loss(), old_loss()
        same = a == b and all(np.array_equal(ga[k], gb[k]) for k in ga) and ga.keys() == gb.keys()
        if not same:
            raise SystemExit(f"({B}, {T}, {V}, {H}): the two versions disagree; not timing them")
        fns = {"new loss": new_loss, "old loss": old_loss,
               "new update": new_update, "old update": old_update}
        times = time_interleaved(fns, repeats, args.warmup)
        for step in ("loss", "update"):
            row = {"B": B, "T": T, "V": V, "H": H, "step": step, "repeats": repeats, "baseline": args.ref}
            for v in ("new", "old"):
                row[f"{v}_ms"], row[f"{v}_q1_ms"], row[f"{v}_q3_ms"] = quartiles_ms(times[f"{v} {step}"][:, 0])
            row["new_over_old"] = row["new_ms"] / row["old_ms"]
            rows.append(row)
            print(f"{B:3d} {T:3d} {V:3d} {H:4d}  {step:6}  {row['new_ms']:8.3f}  {row['old_ms']:8.3f}  "
                  f"{row['new_over_old']:.2f}", flush=True)
    print(f"largest new/old: {max(r['new_over_old'] for r in rows):.2f}")
    out = args.out or (None if args.tiny else ROOT / "benchmarks" / "results")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        info["load_average_1min_end"] = machine.machine_info()["load_average_1min"]
        write_csv(out / "core_versions.csv", rows, COLUMNS)
        (out / "core_versions.json").write_text(json.dumps(info, indent=1) + "\n")
        print(f"wrote {out / 'core_versions.csv'} and {out / 'core_versions.json'}")
    return rows


if __name__ == "__main__":
    main()
