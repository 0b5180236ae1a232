"""Write a notebook from a list of ("md" | "code", text) pairs (authoring helper).

    from tools.nbbuild import write_notebook
    write_notebook("book/01_structure.ipynb", [("md", "# Title"), ("code", "x = 1")])

Every notebook starts with the same hidden cell, which installs rnnlib from the
repository when it is not importable (in Colab), once the book is published with
a repository URL (tools/publish.py); locally and under nbval it does nothing. The
notebook is written unexecuted: run ``./dev execute PATH`` so the stored outputs
come from a fresh kernel, top to bottom.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def repository_url() -> str:
    """The one place the repository URL is set: ``repository.url`` in _config.yml ("" when none)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return (config.get("repository") or {}).get("url") or ""


def bootstrap_source(url: str | None = None) -> str:
    """The notebooks' first code cell: in Colab, install rnnlib from the book's repository.

    ``url`` defaults to _config.yml's; without one (a local checkout) the cell installs
    nothing, so no notebook points at a repository that may not exist. tools/publish.py
    writes the URL into _config.yml and into every notebook.
    """
    url = repository_url() if url is None else url
    if not url:
        return """# Colab install cell: this copy of the book names no repository (repository.url in
# _config.yml is empty), so there is nothing to install from. Publishing the book
# (tools/publish.py) replaces this cell with one that installs rnnlib in Colab."""
    return f'''# In Colab (or anywhere rnnlib is missing), install the course's library from its repository.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("rnnlib") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+{url}"], check=True)'''


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
