"""Name the repository the book is published from: ``python -m tools.publish URL [--branch B]``.

The publishing workflow (.github/workflows/book.yml) runs this on its own checkout with
``https://github.com/OWNER/REPO`` of the repository it runs in, before it builds the book
it deploys. It writes the URL into ``repository.url`` of _config.yml (the one place it is
kept; the build then shows the Binder, Colab and repository buttons) and rewrites every
notebook's first code cell into the Colab cell that installs rnnlib from that URL
(tools/nbbuild.py's ``bootstrap_source``). ``--branch`` names the branch the launch buttons
open: the workflow pushes this rewritten tree there, so the notebook Colab opens carries
the install line. Nothing else in a notebook changes; run it on a copy, not to commit.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from tools.nbbuild import ROOT, bootstrap_source


def set_repository(root: Path, url: str, branch: str) -> None:
    """Set ``repository.url`` and ``repository.branch`` in root/_config.yml, keeping its comments."""
    if not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"url: expected https://HOST/OWNER/REPO, got {url!r}")
    path = root / "_config.yml"
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^repository:\n((?:  .*\n)+)", text, flags=re.M)
    if block is None:
        raise ValueError(f"{path}: expected a 'repository:' block")
    body = re.sub(r"^  url: .*$", f"  url: {url}", block.group(1), flags=re.M)
    body = re.sub(r"^  branch: .*$", f"  branch: {branch}", body, flags=re.M)
    path.write_text(text[:block.start(1)] + body + text[block.end(1):], encoding="utf-8")


def set_colab_cells(root: Path, url: str) -> list[Path]:
    """Rewrite the first code cell of every notebook under root/book to install from url."""
    changed = []
    for path in sorted((root / "book").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        if first.source not in (bootstrap_source(""), bootstrap_source(url)):
            raise ValueError(f"{path}: expected its first code cell to be the Colab cell, got {first.source[:60]!r}")
        first.source = bootstrap_source(url)
        nbformat.write(nb, path)
        changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="https://github.com/OWNER/REPO")
    parser.add_argument("--branch", default="main", help="the branch launch buttons open")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv[1:])
    set_repository(args.root, args.url, args.branch)
    changed = set_colab_cells(args.root, args.url)
    print(f"repository {args.url} (branch {args.branch}): _config.yml and {len(changed)} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
