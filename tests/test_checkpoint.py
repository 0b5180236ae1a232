"""Checkpoints: what is saved comes back exactly, and a bad file is named with what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import raises_naming

from rnnlib import SGD, Adagrad, CharVocab, RNNLanguageModel
from rnnlib.checkpoint import FORMAT_VERSION, Checkpoint, load_checkpoint, save_checkpoint

vocab = CharVocab("héllo wörld\n")


def checkpoint(optimizer=None):
    model = RNNLanguageModel(len(vocab), 6, rng=0)
    training = {"step": 7, "seq_len": 25, "clip": 2.5, "text_sha256": "ab12", "h": np.ones((2, 6))}
    return Checkpoint(model, vocab, "elman", np.arange(len(vocab)), optimizer, training)


@pytest.mark.parametrize("optimizer", [None, SGD(0.5), Adagrad(0.25, eps=1e-6)])
def test_a_checkpoint_comes_back_exactly(optimizer, tmp_path):
    saved = checkpoint(optimizer)
    if isinstance(optimizer, Adagrad):
        optimizer.step(saved.model.params, {k: np.ones_like(p) for k, p in saved.model.params.items()})
    path = save_checkpoint(tmp_path / "model.bin", saved)  # any name: no suffix is added
    assert path == tmp_path / "model.bin" and sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    loaded = load_checkpoint(path)
    assert loaded.vocab.chars == vocab.chars and loaded.cell == "elman"
    for name, p in saved.model.params.items():
        np.testing.assert_array_equal(loaded.model.params[name], p)
    np.testing.assert_array_equal(loaded.counts, saved.counts)
    assert {k: v for k, v in loaded.training.items() if k != "h"} == \
        {"step": 7, "seq_len": 25, "clip": 2.5, "text_sha256": "ab12"}
    np.testing.assert_array_equal(loaded.training["h"], np.ones((2, 6)))
    assert type(loaded.optimizer) is type(optimizer)
    if optimizer is not None:
        assert loaded.optimizer.lr == optimizer.lr
    if isinstance(optimizer, Adagrad):
        assert loaded.optimizer.eps == optimizer.eps
        for name, m in optimizer.memory.items():
            np.testing.assert_array_equal(loaded.optimizer.memory[name], m)


def test_the_loaded_model_samples_what_the_saved_one_samples(tmp_path):
    saved = checkpoint()
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.npz", saved))
    seed = vocab.encode("hé")
    np.testing.assert_array_equal(loaded.model.sample(seed, 30, rng=4), saved.model.sample(seed, 30, rng=4))


def test_a_newer_format_or_an_unknown_cell_is_refused_by_name(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", checkpoint())
    with np.load(path, allow_pickle=False) as data:
        arrays = dict(data)
    for key, value, words in (("format_version", np.array(FORMAT_VERSION + 1), "version"),
                              ("cell", np.array("gru"), "'gru'"),
                              ("params.U", np.zeros((6, 3)), "params['U']")):
        np.savez(tmp_path / "bad.npz", **{**arrays, key: value})
        with pytest.raises(ValueError, match=f"^{tmp_path / 'bad.npz'}: ") as info:
            load_checkpoint(tmp_path / "bad.npz")
        assert words in str(info.value)
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in arrays.items() if k != "chars"})
    with pytest.raises(ValueError, match="expected an entry 'chars'"):
        load_checkpoint(tmp_path / "bad.npz")


def test_an_interrupted_save_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.npz", checkpoint())
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, checkpoint(SGD(0.1)))
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# (id, call, error type, the argument the message must name)
CASES = [
    ("not a Checkpoint", lambda p: save_checkpoint(p, {"model": None}), TypeError, "checkpoint"),
    ("vocab not a CharVocab", lambda p: save_checkpoint(p, Checkpoint(checkpoint().model, "abc")), TypeError,
     "checkpoint.vocab"),
    ("model of another vocabulary",
     lambda p: save_checkpoint(p, Checkpoint(RNNLanguageModel(3, 4, rng=0), vocab)), ValueError,
     "checkpoint.model"),
    ("unknown cell", lambda p: save_checkpoint(p, Checkpoint(checkpoint().model, vocab, "gru")), ValueError,
     "cell"),
    ("counts of another length",
     lambda p: save_checkpoint(p, Checkpoint(checkpoint().model, vocab, counts=np.ones(3, dtype=int))), ValueError,
     "counts"),
    ("optimizer of another kind",
     lambda p: save_checkpoint(p, Checkpoint(checkpoint().model, vocab, optimizer=object())), TypeError,
     "checkpoint.optimizer"),
    ("training value a list",
     lambda p: save_checkpoint(p, Checkpoint(checkpoint().model, vocab, training={"steps": [1]})), TypeError,
     "checkpoint.training['steps']"),
]


@pytest.mark.parametrize(("call", "error", "name"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_checkpoints_are_refused_before_writing(call, error, name, tmp_path):
    with raises_naming(error, name):
        call(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())
