"""The documentation stays in step with the code: API page, docstrings, README commands."""

from __future__ import annotations

import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rnnlib

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = sorted(m.name for m in pkgutil.iter_modules(rnnlib.__path__) if not m.name.startswith("_"))


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_is_in_the_api_reference(module):
    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    assert f".. automodule:: rnnlib.{module}\n" in api


@pytest.mark.parametrize("name", sorted(rnnlib.__all__))
def test_every_export_names_the_chapter_that_derives_it(name):
    doc = inspect.getdoc(getattr(rnnlib, name)) or ""
    match = re.search(r"Derived in: Chapter \d+, [^(]+\((book/[\w.]+\.ipynb)\)", doc)
    assert match, f"rnnlib.{name}: docstring lacks 'Derived in: Chapter N, Title (book/NN_name.ipynb)'"
    assert (ROOT / match.group(1)).exists(), f"rnnlib.{name}: names {match.group(1)}, which does not exist"


def test_importing_every_module_imports_neither_tensorflow_nor_keras():
    """Interop modules (keras_interop, cudnn.tf_ops, tfcompat) import TensorFlow only when called."""
    code = "import sys, rnnlib; import " + ", ".join(f"rnnlib.{m}" for m in PUBLIC_MODULES) + \
        "; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```bash\n./dev book\n```" in readme
    assert "```bash\n./dev test\n```" in readme
    assert "./dev test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
