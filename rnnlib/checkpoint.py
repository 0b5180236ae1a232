"""A character language model saved with everything needed to sample from it or resume training.

A checkpoint is one ``.npz`` archive, read with ``allow_pickle=False``: the format's name and
version, the cell type, the parameters, the vocabulary (as code points), the training text's
character counts (the unigram baseline), the optimiser and its state, and the training
settings and position. The command line (``python -m rnnlib``) writes and reads these files.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import CharVocab
from .models import LM_PARAM_NAMES, RNNLanguageModel, check_lm_params
from .optim import SGD, Adagrad
from .params import read_npz

FORMAT = "rnnlib-char-model"
FORMAT_VERSION = 1
CELLS = ("elman",)  # the cells this rnnlib can rebuild; gated cells will add theirs


@dataclass
class Checkpoint:
    """What a checkpoint file holds.

    model: an ``RNNLanguageModel`` with K = len(vocab) inputs and outputs; vocab: its
    ``CharVocab``; cell: the recurrent cell (``"elman"``); counts: None or (K,) int64,
    how often each character occurs in the training text; optimizer: None, ``SGD`` or
    ``Adagrad`` (with its accumulated squares); training: a dict of settings and
    position (str, int, float or array values), saved and restored as they are.
    """

    model: RNNLanguageModel
    vocab: CharVocab
    cell: str = "elman"
    counts: np.ndarray | None = None
    optimizer: SGD | Adagrad | None = None
    training: dict = field(default_factory=dict)


def save_checkpoint(path, checkpoint):
    """Write ``checkpoint`` to ``path`` (any name; no suffix is added); return the path.

    The file is written next to ``path`` under a temporary name and then renamed over
    it, so an interrupted save leaves the previous file whole.
    """
    arrays = _to_arrays(checkpoint)
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path):
    """Read a ``Checkpoint`` written by ``save_checkpoint``.

    A file that is not an ``.npz`` archive, is truncated or damaged, is another program's
    archive, or has a newer format version or an unknown cell raises ``ValueError``
    whose message starts with the path and says what is wrong.
    """
    arrays = read_npz(Path(path), "an rnnlib model")
    try:
        return _from_arrays(arrays)
    except KeyError as error:
        raise ValueError(f"{path}: expected an entry {error.args[0]!r}, found none") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


# ------------------------------------------------------------------ arrays --


def _to_arrays(ck):
    if not isinstance(ck, Checkpoint):
        raise TypeError(f"checkpoint: expected a Checkpoint, got {type(ck).__name__}")
    _check_cell(ck.cell)
    if not isinstance(ck.vocab, CharVocab):
        raise TypeError(f"checkpoint.vocab: expected a CharVocab, got {type(ck.vocab).__name__}")
    D, _, K = check_lm_params(ck.model.params)
    if D != len(ck.vocab) or K != len(ck.vocab):
        raise ValueError(f"checkpoint.model: expected {len(ck.vocab)} inputs and outputs (the vocabulary), "
                         f"got {D} and {K}")
    arrays = {"format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
              "cell": np.array(ck.cell), "chars": np.array([ord(c) for c in ck.vocab.chars], dtype=np.int32)}
    arrays.update({f"params.{k}": ck.model.params[k] for k in LM_PARAM_NAMES})
    if ck.counts is not None:
        arrays["counts"] = _check_counts(ck.counts, len(ck.vocab))
    if ck.optimizer is not None:
        arrays.update(_optimizer_arrays(ck.optimizer))
    for key, value in ck.training.items():
        if not isinstance(value, str | int | float | np.ndarray) or isinstance(value, bool):
            raise TypeError(f"checkpoint.training[{key!r}]: expected a str, int, float or numpy array, "
                            f"got {type(value).__name__}")
        arrays[f"training.{key}"] = np.asarray(value)
    return arrays


def _from_arrays(a):
    if "format" not in a or a["format"].dtype.kind != "U" or str(a["format"]) != FORMAT:
        keys = ", ".join(sorted(a)[:6]) + (", ..." if len(a) > 6 else "")
        raise ValueError(f"expected an rnnlib character model (format {FORMAT!r}), got an .npz archive "
                         f"with keys {keys}")
    version = _int(a, "format_version")
    if not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"expected format version 1 to {FORMAT_VERSION}, got version {version} "
                         "(written by a newer rnnlib?)")
    cell = _check_cell(str(a["cell"]))
    chars = a["chars"]
    if chars.ndim != 1 or chars.dtype.kind not in "iu" or len(chars) == 0 or np.any(np.diff(chars) <= 0) \
            or chars.min() < 0 or chars.max() > 0x10FFFF:
        raise ValueError("chars: expected increasing code points of the vocabulary, got something else")
    vocab = CharVocab("".join(map(chr, chars.tolist())))
    model = RNNLanguageModel.from_params({k: a[f"params.{k}"] for k in LM_PARAM_NAMES})
    if model.input_size != len(vocab) or model.output_size != len(vocab):
        raise ValueError(f"params: expected {len(vocab)} inputs and outputs (the vocabulary), got "
                         f"{model.input_size} and {model.output_size}")
    counts = _check_counts(a["counts"], len(vocab)) if "counts" in a else None
    training = {k.split(".", 1)[1]: (v.item() if v.ndim == 0 else v) for k, v in a.items()
                if k.startswith("training.")}
    return Checkpoint(model, vocab, cell, counts, _optimizer_from(a), training)


def _optimizer_arrays(opt):
    if isinstance(opt, SGD):
        return {"optimizer": np.array("sgd"), "optimizer.lr": np.array(opt.lr)}
    if isinstance(opt, Adagrad):
        out = {"optimizer": np.array("adagrad"), "optimizer.lr": np.array(opt.lr),
               "optimizer.eps": np.array(opt.eps)}
        out.update({f"optimizer.memory.{k}": m for k, m in opt.memory.items()})
        return out
    raise TypeError(f"checkpoint.optimizer: expected None, SGD or Adagrad, got {type(opt).__name__}")


def _optimizer_from(a):
    if "optimizer" not in a:
        return None
    kind, lr = str(a["optimizer"]), float(a["optimizer.lr"])
    if kind == "sgd":
        return SGD(lr)
    if kind != "adagrad":
        raise ValueError(f"optimizer: expected 'sgd' or 'adagrad', got {kind!r}")
    opt = Adagrad(lr, eps=float(a["optimizer.eps"]))
    prefix = "optimizer.memory."
    opt.memory = {k[len(prefix):]: v for k, v in a.items() if k.startswith(prefix)}
    return opt


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS} (the cells this rnnlib has), got {cell!r}")
    return cell


def _check_counts(counts, K):
    counts = np.asarray(counts)
    if counts.shape != (K,) or counts.dtype.kind not in "iu" or counts.min() < 0:
        raise ValueError(f"counts: expected {K} non-negative integers, got an array of shape {counts.shape} "
                         f"and dtype {counts.dtype}")
    return counts.astype(np.int64)


def _int(a, key):
    v = a[key]
    if v.ndim != 0 or v.dtype.kind not in "iu":
        raise ValueError(f"{key}: expected an integer, got an array of shape {v.shape} and dtype {v.dtype}")
    return int(v)


# ------------------------------------------------------------------- files --


