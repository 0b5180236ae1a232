"""``python -m rnnlib``: the command line of ``rnnlib.cli``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m rnnlib"))
