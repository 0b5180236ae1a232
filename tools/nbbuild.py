"""Write a notebook from a list of ("md" | "code", text) pairs (authoring helper).

    from tools.nbbuild import write_notebook
    write_notebook("book/01_structure.ipynb", [("md", "# Title"), ("code", "x = 1")])

Every notebook starts with the same hidden cell, which installs rnnlib from the
repository when it is not importable (in Colab); locally and under nbval it
does nothing. The notebook is written unexecuted: run ``./dev execute PATH`` so
the stored outputs come from a fresh kernel, top to bottom.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def repository_url() -> str:
    """The one place the repository URL is set: ``repository.url`` in _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"]


def bootstrap_source() -> str:
    return f'''# In Colab (or anywhere rnnlib is missing), install the course's library from its repository.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("rnnlib") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+{repository_url()}"], check=True)'''


def write_notebook(path: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    bootstrap = nbformat.v4.new_code_cell(bootstrap_source())
    bootstrap.metadata["tags"] = ["remove-cell"]
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(text))
        else:
            raise ValueError(f"kind: expected 'md' or 'code', got {kind!r}")
        if len(nb.cells) == 1:  # after the title, before anything runs
            nb.cells.append(bootstrap)
    nbformat.validate(nb)
    nbformat.write(nb, path)
