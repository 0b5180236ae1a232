"""The spreads a chapter prints next to its pass marks were measured on the code it has now."""

from __future__ import annotations

import json

import nbformat
import pytest
from notebook_hygiene import book_notebooks

from rnnlib.display import Margins
from tools import margins

NOTEBOOKS = book_notebooks(margins.Path(__file__).resolve().parents[1])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_recorded_spread_matches_the_notebook(path):
    assert margins.margins_problems(path) == []


def _notebook(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source, recorded in cells:
        cell = nbformat.v4.new_code_cell(source)
        if recorded:
            cell.metadata["margins"] = recorded
        nb.cells.append(cell)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_stale_or_missing_spread_is_reported(tmp_path):
    path = _notebook(tmp_path, [("x = 1.0", {"x": "x"})])
    assert "is missing" in margins.margins_problems(path)[0]
    nb = nbformat.read(path, as_version=4)
    record = {"code_sha256": margins.code_hash(nb), "runs": ["a", "b"], "values": {"x": [1.0, 1.0]}}
    margins.margins_path(path).parent.mkdir()
    margins.margins_path(path).write_text(json.dumps(record))
    assert margins.margins_problems(path) == []
    nb.cells[0].source = "x = 2.0"
    nbformat.write(nb, path)
    assert "other code" in margins.margins_problems(path)[0]


def test_a_run_records_values_perturbs_weights_and_reseeds(tmp_path):
    path = _notebook(tmp_path, [
        ("import rnnlib\nm = rnnlib.RNNLanguageModel(3, 4, rng=0)\n"
         "w = float(m.params['W'][0, 0])\nw0 = float(rnnlib.RNNLanguageModel(3, 4, rng=0).params['W'][0, 0])",
         {"w": "w", "shift": "abs(w / w0 - 1) if w != w0 else 0.0"}),
        ("import os\nthreads = int(os.environ['OPENBLAS_NUM_THREADS'])", {"threads": "threads"}),
    ])
    def run(**change):
        variant = {"threads": 1, "perturbation_seed": None, "reseed": None, **change}
        return margins.run_variant(str(path), variant, timeout=120)

    plain, perturbed, reseeded = run(threads=2), run(perturbation_seed=1), run(reseed=1)
    assert plain["shift"] == 0.0 and plain["threads"] == 2
    assert 0 < abs(perturbed["w"] / plain["w"] - 1) < 1e-10 and perturbed["threads"] == 1
    assert reseeded["shift"] == 0.0 and abs(reseeded["w"] / plain["w"] - 1) > 1e-3  # a new draw


def test_margins_check_prints_the_range_against_the_mark(tmp_path, monkeypatch, capsys):
    (tmp_path / "margins").mkdir()
    record = {"runs": ["r1", "r2", "r3"], "machine": "test CPU", "measured_utc": "2026-01-01 00:00",
              "values": {"loss": [2.1, 2.3, 2.2]}}
    (tmp_path / "margins" / "ch.json").write_text(json.dumps(record))
    monkeypatch.chdir(tmp_path)
    spread = Margins("ch")
    spread.check("loss", below=2.5)
    spread.check("loss", above=2.2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "loss: 2.1 to 2.3 in 3 runs; all below 2.5: True (room 0.2)"
    assert out[1].startswith("loss: 2.1 to 2.3 in 3 runs; all above 2.2: False")
    assert "3 runs of this notebook (test CPU" in repr(spread)
    with pytest.raises(TypeError, match="exactly one"):
        spread.check("loss")
