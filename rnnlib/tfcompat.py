"""Import TensorFlow quietly and deterministically (an edge module: the core never imports it).

TensorFlow's C++ runtime writes log lines to file descriptor 2 while it is imported (even
with ``TF_CPP_MIN_LOG_LEVEL=3``), which Jupyter puts in a cell's stderr with timestamps, so
nbval could never compare such a cell. This module sets TensorFlow's environment before the
import and points descriptor 2 at ``/dev/null`` for the import only.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # C++ INFO, WARNING and ERROR lines off
    "TF_ENABLE_ONEDNN_OPTS": "0",  # oneDNN reorders float sums: last digits would vary
}


@contextlib.contextmanager
def silenced_native_stderr():
    """Send file descriptor 2 to /dev/null inside the block (Python's sys.stderr too)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow(*, legacy_keras: bool = False):
    """Return the ``tensorflow`` module, imported without log noise.

    ``legacy_keras=True`` sets ``TF_USE_LEGACY_KERAS=1`` so that ``tf.keras`` and
    ``tf.compat.v1.nn.rnn_cell`` come from the ``tf-keras`` package (Keras 2), the
    only place TF1 cells such as ``BasicRNNCell`` still run. That choice is fixed
    for the life of the process: asking for the other one after TensorFlow has been
    imported is an error rather than a silent no-op.
    """
    wanted = "1" if legacy_keras else "0"
    if "tensorflow" in sys.modules:
        current = os.environ.get("TF_USE_LEGACY_KERAS", "0")
        if current != wanted:
            raise RuntimeError("legacy_keras: TensorFlow is already imported with "
                               f"TF_USE_LEGACY_KERAS={current}; restart the kernel to change it")
        return sys.modules["tensorflow"]
    os.environ.update(_ENVIRONMENT)
    os.environ["TF_USE_LEGACY_KERAS"] = wanted
    with silenced_native_stderr():
        tf = importlib.import_module("tensorflow")
        importlib.import_module("tf_keras" if legacy_keras else "keras")
    tf.get_logger().setLevel("ERROR")
    return tf
