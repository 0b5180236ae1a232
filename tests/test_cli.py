"""The command line end to end, through subprocesses, on a small generated text (no downloads).

Train, save, resume (bit for bit the run that was never stopped), sample, eval, Ctrl-C, and
every bad input of issue 21: each ends with one line ``rnnlib: error: ...`` and exit status 1.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from rnnlib.checkpoint import FORMAT_VERSION, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "OPENBLAS_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}
SMALL = ["--hidden", "16", "--seq-len", "20", "--batch", "8"]  # 15 updates per pass over the text


def rnnlib(*args, check=None):
    """Run ``python -m rnnlib ARGS``; with ``check``, assert that exit status."""
    done = subprocess.run([sys.executable, "-m", "rnnlib", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=120)
    if check is not None:
        assert done.returncode == check, done.stderr
    return done


def rnnlib_all(commands):
    """Run ``python -m rnnlib ARGS`` for every ARGS of ``commands`` at the same time (most of
    each run is starting Python); returns their CompletedProcess, in order."""
    procs = [subprocess.Popen([sys.executable, "-m", "rnnlib", *map(str, args)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV) for args in commands]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def generated_text(n_lines=60, seed=0):
    """Sentences of words drawn from a small vocabulary: about 2 900 characters, 30 distinct."""
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "its", "bed"]
    return "\n".join(" ".join(rng.choice(words, size=12)).capitalize() + "." for _ in range(n_lines)) + "\n"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "words.txt"
    path.write_text(generated_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(text):
    """A model trained for 40 updates (2.5 passes) with Adagrad, and its command's output."""
    model = text.parent / "full.npz"
    done = rnnlib("train", text, "--save", model, *SMALL, "--steps", 40, "--optimizer", "adagrad",
                  "--eval-every", 10, check=0)
    return model, done


def test_train_saves_a_model_that_beats_the_unigram_baseline(trained):
    model, done = trained
    assert "saved" in done.stdout and "40 in all" in done.stdout
    validation = [line for line in done.stdout.splitlines() if line.startswith("validation:")]
    val, unigram = (float(w) for w in validation[0].replace("(", " ").replace(",", " ").split()
                    if w.replace(".", "").isdigit())
    assert val < unigram  # 40 updates of Adagrad learn the words: below the letter frequencies
    assert done.stderr.count("update ") == 4  # not a terminal: a line after each of 4 evaluations
    ck = load_checkpoint(model)
    assert ck.cell == "elman" and ck.training["step"] == 40 and ck.model.hidden_size == 16
    with np.load(model, allow_pickle=False) as data:  # everything loads without pickle
        assert int(data["format_version"]) == FORMAT_VERSION


def test_resumed_training_is_bit_for_bit_the_uninterrupted_run(text, trained, tmp_path):
    part = tmp_path / "part.npz"
    rnnlib("train", text, "--save", part, *SMALL, "--steps", 21, "--optimizer", "adagrad", "--eval-every", 10,
           check=0)
    assert load_checkpoint(part).training["chunk"] == 6  # inside the second pass (15 updates each), state carried
    done = rnnlib("train", text, "--resume", part, "--steps", 19, check=0)
    assert "19 updates" in done.stdout and "40 in all" in done.stdout
    full, resumed = load_checkpoint(trained[0]), load_checkpoint(part)
    for name, p in full.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], p, err_msg=name)
    for name, m in full.optimizer.memory.items():  # Adagrad's sums of squares
        np.testing.assert_array_equal(resumed.optimizer.memory[name], m, err_msg=name)
    np.testing.assert_array_equal(resumed.training["h"], full.training["h"])


def test_sample_prints_the_seed_text_and_n_characters(trained):
    model, _ = trained
    first = rnnlib("sample", model, "--seed-text", "the ", "-n", 80, "--temperature", 0.8, "--seed", 3, check=0)
    again = rnnlib("sample", model, "--seed-text", "the ", "-n", 80, "--temperature", 0.8, "--seed", 3, check=0)
    assert first.stdout == again.stdout and first.stdout.startswith("the ")
    assert len(first.stdout) == len("the ") + 80 + 1  # and print's newline


def test_eval_scores_a_text_against_the_unigram_baseline(trained, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(generated_text(20, seed=1), encoding="utf-8")
    done = rnnlib("eval", trained[0], other, check=0)
    lines = done.stdout.splitlines()
    assert "bits/char over" in lines[0] and "unigram baseline" in lines[1] and "uniform" in lines[2]
    assert float(lines[0].split(": ")[1].split()[0]) < float(lines[1].split(": ")[1].split()[0])


def test_ctrl_c_saves_the_model_and_exits_cleanly(text, tmp_path):
    model = tmp_path / "stopped.npz"
    proc = subprocess.Popen([sys.executable, "-m", "rnnlib", "train", str(text), "--save", str(model), *SMALL,
                             "--steps", "100000", "--eval-every", "5"], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        while "update " not in proc.stderr.readline():  # training has started
            assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "continue with:" in err and f"saved {model}" in out
    step = load_checkpoint(model).training["step"]
    assert 5 <= step < 100000
    done = rnnlib("train", text, "--resume", model, "--steps", 2, check=0)
    assert f"{step + 2} in all" in done.stdout
    # nothing was lost: the same as a run of step + 2 updates that was never stopped
    rnnlib("train", text, "--save", tmp_path / "whole.npz", *SMALL, "--steps", step + 2, check=0)
    whole, resumed = load_checkpoint(tmp_path / "whole.npz"), load_checkpoint(model)
    for name, p in whole.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], p, err_msg=name)


def test_help_names_the_commands_and_the_cell_option():
    assert all(c in rnnlib("--help", check=0).stdout for c in ("train", "sample", "eval"))
    assert "gated cells" in rnnlib("train", "--help", check=0).stdout


def test_the_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["rnnlib"] == "rnnlib.cli:main"


# ----------------------------------------------------------------------- bad input --


def write_bad_files(tmp_path):
    files = {"empty.txt": b"", "binary.bin": bytes(range(256)) * 4, "latin1.txt": "caf\xe9\n".encode("latin-1"),
             "one.txt": b"a" * 500,
             "short.txt": b"the cat sat.\nthe dog ran.\n", "unknown.txt": "The Zoo été.\n".encode()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


# (id, arguments (text = the good text, tmp = a folder of bad files, model = a trained model),
#  words the one-line message must contain)
BAD = [
    ("empty file", ["train", "{tmp}/empty.txt", "--save", "{tmp}/m.npz"], ["empty.txt", "empty file"]),
    ("binary file", ["train", "{tmp}/binary.bin", "--save", "{tmp}/m.npz"], ["binary.bin", "binary"]),
    ("not UTF-8", ["train", "{tmp}/latin1.txt", "--save", "{tmp}/m.npz"], ["latin1.txt", "UTF-8", "0xe9"]),
    ("missing file", ["train", "{tmp}/nothing.txt", "--save", "{tmp}/m.npz"], ["nothing.txt", "no such file"]),
    ("one distinct character", ["train", "{tmp}/one.txt", "--save", "{tmp}/m.npz"],
     ["one.txt", "two distinct characters", "'a'"]),
    ("seq-len longer than the text", ["train", "{tmp}/short.txt", "--save", "{tmp}/m.npz", "--seq-len", "50"],
     ["--seq-len 50", "long enough"]),
    ("save folder missing", ["train", "{text}", "--save", "{tmp}/no/such/folder/m.npz"],
     ["--save", "does not exist"]),
    ("save path under a file", ["train", "{text}", "--save", "{text}/m.npz"], ["--save", "not a folder"]),
    ("save path is a folder", ["train", "{text}", "--save", "{tmp}"], ["--save", "got a folder"]),
    ("no save path", ["train", "{text}"], ["--save"]),
    ("seed text outside the vocabulary", ["sample", "{model}", "--seed-text", "The Zebra"],
     ["--seed-text", "got 'Z'"]),
    ("empty seed text", ["sample", "{model}", "--seed-text", ""], ["--seed-text", "empty"]),
    ("eval text outside the vocabulary", ["eval", "{model}", "{tmp}/unknown.txt"], ["unknown.txt", "got 'Z', 'é'"]),
    ("eval of a binary file", ["eval", "{model}", "{tmp}/binary.bin"], ["binary.bin", "binary"]),
    ("resume with another hidden size", ["train", "{text}", "--resume", "{model}", "--hidden", "8"],
     ["--hidden", "16"]),
    ("resume a missing model", ["train", "{text}", "--resume", "{tmp}/none.npz"], ["none.npz", "no such file"]),
]


@pytest.fixture(scope="module")
def bad_runs(text, trained, tmp_path_factory):
    """{id: (the folder of bad files, the finished run)} for every case of BAD, run together."""
    tmp = write_bad_files(tmp_path_factory.mktemp("bad"))
    runs = rnnlib_all([[a.format(text=text, tmp=tmp, model=trained[0]) for a in args] for _, args, _ in BAD])
    return {case[0]: (tmp, done) for case, done in zip(BAD, runs, strict=True)}


@pytest.mark.parametrize(("case", "words"), [(c[0], c[2]) for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_ends_with_one_line_and_status_1(case, words, bad_runs):
    tmp, done = bad_runs[case]
    assert done.returncode == 1, done.stderr
    assert done.stdout == "" and done.stderr.startswith("rnnlib: error: ") and done.stderr.count("\n") == 1
    for word in words:
        assert word.lower() in done.stderr.lower(), done.stderr
    assert not (tmp / "m.npz").exists()


@pytest.mark.parametrize("where", ["sysfs", "read-only folder"])
def test_a_save_path_that_cannot_be_written_fails_before_training(where, text, tmp_path):
    folder = Path("/sys") if where == "sysfs" else tmp_path / "locked"
    if where == "sysfs" and not folder.is_dir():
        pytest.skip("no /sys here (not Linux)")
    if where != "sysfs":
        if os.geteuid() == 0:
            pytest.skip("root writes in read-only folders (/sys covers the check)")
        folder.mkdir(mode=0o500)
    started = time.perf_counter()
    done = rnnlib("train", text, "--save", folder / "m.npz", "--steps", 100000)
    assert done.returncode == 1 and done.stderr.startswith(f"rnnlib: error: --save {folder / 'm.npz'}: ")
    assert "folder we can write in" in done.stderr and time.perf_counter() - started < 30  # not 100000 updates


def test_malformed_options_end_with_one_line_and_status_2(text):
    done = rnnlib("train", text, "--save", "m.npz", "--seq-len", "0")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--seq-len" in done.stderr


DAMAGES = ["truncated", "corrupted", "foreign", "not a zip", "newer version"]


@pytest.fixture(scope="module")
def damaged_runs(trained, tmp_path_factory):
    """{damage: (the damaged file, ``rnnlib sample`` on it)} for every damage of DAMAGES."""
    data, folder = trained[0].read_bytes(), tmp_path_factory.mktemp("damaged")
    middle = len(data) // 2
    with np.load(trained[0], allow_pickle=False) as saved:
        arrays = dict(saved)
    files = {}
    for damage in DAMAGES:
        bad = files[damage] = folder / f"{damage.replace(' ', '_')}.npz"
        if damage == "truncated":
            bad.write_bytes(data[:middle])
        elif damage == "corrupted":  # flip bytes in the middle of the parameters
            bad.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :])
        elif damage == "foreign":
            np.savez(bad, W=np.zeros((2, 2)))
        elif damage == "not a zip":
            bad.write_bytes(b"\x93NUMPY" + bytes(100))
        else:
            np.savez(bad, **{**arrays, "format_version": np.array(FORMAT_VERSION + 1)})
    runs = rnnlib_all([["sample", files[damage]] for damage in DAMAGES])
    return {damage: (files[damage], done) for damage, done in zip(DAMAGES, runs, strict=True)}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_or_foreign_model_file_is_named_with_what_is_wrong(damage, damaged_runs):
    bad, done = damaged_runs[damage]
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"rnnlib: error: {bad}: expected ")
    assert "pickle" not in done.stderr  # numpy's misleading message for a damaged archive
    expected = {"truncated": "truncated or damaged", "corrupted": "truncated or damaged",
                "foreign": "rnnlib character model", "not a zip": "zip archive", "newer version": "version"}
    assert expected[damage] in done.stderr


# ------------------------------------------------------------------------ README --


def readme_quick_start():
    """The bash and Python blocks of the README's quick start."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start")[1].split("\n## ")[0]
    blocks = re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.S)
    return {kind: code for kind, code in blocks}


def test_the_readme_quick_start_commands_parse():
    from rnnlib.cli import _parser

    lines = [line.split("#")[0] for line in readme_quick_start()["bash"].splitlines()]
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("rnnlib ")]
    assert [c[0] for c in commands] == ["train", "train", "sample", "eval"]
    for argv in commands:
        _parser("rnnlib").parse_args(argv)  # exits (status 2) on an option that does not exist


def test_the_readme_quick_start_in_python_runs(tmp_path, monkeypatch, capsys):
    code = readme_quick_start()["python"]
    assert "steps=1000" in code
    (tmp_path / "input.txt").write_text(generated_text(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(code.replace("steps=1000", "steps=3"), {})  # noqa: S102 - the README's own code
    assert len(capsys.readouterr().out) == 501
