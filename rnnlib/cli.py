"""The command line: train a character language model on a text file, sample from it, score it::

    rnnlib train TEXT_FILE --save MODEL.npz
    rnnlib sample MODEL.npz --seed-text "The " -n 500 --temperature 0.8
    rnnlib eval MODEL.npz TEXT_FILE

``python -m rnnlib`` is the same command. Training is ``train_language_model`` (Chapter 6) on
the text's parallel streams, with the settings of Chapter 6 as defaults. A bad input ends with one line on stderr,
``rnnlib: error: ...``, and exit status 1 (2 for a malformed command line); Ctrl-C during
training saves the model after the update in progress and exits with status 130.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import __version__
from .checkpoint import CELLS, Checkpoint, load_checkpoint, save_checkpoint
from .data import CharVocab, batchify, num_chunks, train_val_split
from .models import RNNLanguageModel
from .optim import SGD, Adagrad
from .train import bits_per_char, train_language_model, unigram_bits_per_char

# Chapter 6's settings; the learning rate depends on the optimiser
DEFAULTS = {"cell": "elman", "hidden": 128, "seq_len": 25, "batch": 32, "steps": 1000, "optimizer": "sgd",
            "clip": 25.0, "val_fraction": 0.1, "eval_every": 100, "seed": 0}
DEFAULT_LR = {"sgd": 0.0625, "adagrad": 0.1}
# settings that fix the model or the layout of the text: a resumed run keeps them
KEPT_ON_RESUME = ("cell", "hidden", "seq_len", "batch", "val_fraction", "seed", "optimizer")


class UserError(Exception):
    """A bad input: printed as one line, ``rnnlib: error: <message>``, exit status 1."""


class _Interrupted(Exception):
    """Ctrl-C was pressed: stop after the update that has just finished."""


def main(argv=None, prog="rnnlib"):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _parser(prog).parse_args(argv)
    try:
        return args.run(args)
    except UserError as error:
        print(f"rnnlib: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rnnlib: interrupted; nothing saved", file=sys.stderr)
        return 130


# ------------------------------------------------------------------ train --


def _train(args):
    resumed = _load(args.resume) if args.resume else None
    save = args.save or args.resume
    if save is None:
        raise UserError("train: expected --save MODEL.npz (where to write the model), got none")
    _check_writable(save)
    text = _read_text(args.text_file)
    settings = _settings(args, resumed)
    if resumed is None:
        if len(set(text)) < 2:
            raise UserError(f"{args.text_file}: expected at least two distinct characters, got only "
                            f"{text[0]!r}")
        vocab = CharVocab(text)
        model = RNNLanguageModel(len(vocab), settings["hidden"], rng=settings["seed"])
        optimizer = None
    else:
        vocab, model, optimizer = resumed.vocab, resumed.model, resumed.optimizer
        _check_known(text, vocab, args.text_file, f"the vocabulary of {args.resume}")
    if optimizer is None or type(optimizer) is not (SGD if settings["optimizer"] == "sgd" else Adagrad):
        optimizer = SGD(settings["lr"]) if settings["optimizer"] == "sgd" else Adagrad(settings["lr"])
    optimizer.lr = settings["lr"]

    train_text, val_text = _split(text, settings["val_fraction"])
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    B, T = settings["batch"], settings["seq_len"]
    if len(train_ids) // B < T + 1:
        raise UserError(f"--seq-len {T}: expected a text long enough for {B} streams (--batch) of seq-len + 1 "
                        f"= {T + 1} characters, got {len(train_ids)} training characters (use a smaller "
                        "--seq-len or --batch, or a longer text)")
    streams = batchify(train_ids, B)
    val_streams = batchify(val_ids, min(B, len(val_ids) // 2)) if len(val_ids) >= 2 else None
    counts = np.bincount(train_ids, minlength=len(vocab))

    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    run = _Run(model, optimizer, streams, T, settings["clip"])
    if resumed is not None:
        run.step = int(resumed.training.get("step", 0))
        if resumed.training.get("text_sha256") == sha:
            run.chunk = int(resumed.training.get("chunk", 0))
            run.h = resumed.training.get("h") if run.chunk else None
        else:
            print(f"note: {args.text_file} is not the text {args.resume} was trained on; training "
                  "starts at its beginning", file=sys.stderr)

    def checkpoint():
        training = {k: settings[k] for k in ("seq_len", "batch", "val_fraction", "seed", "clip", "eval_every")}
        training.update(step=run.step, chunk=run.chunk, text_sha256=sha)
        if run.chunk:
            training["h"] = run.h
        return Checkpoint(model, vocab, settings["cell"], counts, optimizer, training)

    unigram = unigram_bits_per_char(train_ids, val_streams[:, 1:], len(vocab)) if val_streams is not None \
        else None
    bar = _Progress(run.step, run.step + args.steps, T, unigram)
    stopped = _stop_on_sigint()
    try:
        run.train(args.steps, val_streams, settings["eval_every"], bar, stopped)
        interrupted = False
    except _Interrupted:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, stopped.previous)
        bar.close()
    val_bpc = run.last_val
    if val_streams is not None and run.last_val_step != run.step:
        val_bpc = bits_per_char(model, val_streams)
    save_checkpoint(save, checkpoint())
    done = run.step - bar.first
    print(f"{done} updates in {bar.elapsed:.1f} s ({done / max(bar.elapsed, 1e-9):.1f} updates/s); "
          f"{run.step} in all")
    if val_bpc is not None:
        print(f"validation: {val_bpc:.3f} bits/char (unigram baseline {unigram:.3f}, uniform "
              f"{math.log2(len(vocab)):.3f})")
    print(f"saved {save}")
    if interrupted:
        print(f"interrupted at update {run.step}; continue with: {args.prog} train {args.text_file} "
              f"--resume {save}", file=sys.stderr)
        return 130
    return 0


class _Run:
    """Training from a position in the text: the update count, the chunk of the current pass
    the next update reads, and the state the previous chunk ended with."""

    def __init__(self, model, optimizer, streams, seq_len, clip):
        self.model, self.optimizer, self.streams, self.T = model, optimizer, streams, seq_len
        self.clip = clip or None  # 0: no clipping
        self.per_pass = num_chunks(streams, seq_len, drop_last=True)
        self.step, self.chunk, self.h = 0, 0, None
        self.last_val, self.last_val_step = None, None

    def train(self, steps, val_streams, eval_every, bar, stopped):
        """``steps`` updates with ``train_language_model``, one call per pass over the text (or
        the rest of one), so that a resumed pass starts where the saved one stopped."""
        carried = _CarriedState(self.model)

        def after_update(step, info):
            self.step += 1
            self.chunk, self.h = self.chunk + 1, carried.h_last
            if self.chunk == self.per_pass:  # a new pass starts from h_0 = 0
                self.chunk, self.h = 0, None
            if stopped.flag:
                raise _Interrupted
            if val_streams is not None and self.step % eval_every == 0:
                self.last_val, self.last_val_step = bits_per_char(self.model, val_streams), self.step
            bar.update(self.step, info["loss"], self.last_val)

        end = self.step + steps
        while self.step < end:
            n = min(self.per_pass - self.chunk, end - self.step)
            carried.h0 = self.h
            train_language_model(carried, self.streams[:, self.chunk * self.T:], seq_len=self.T,
                                 optimizer=self.optimizer, steps=n, max_norm=self.clip, progress=after_update)


class _CarriedState:
    """The model as ``train_language_model`` sees it: its first chunk starts from ``h0`` (a
    saved state) instead of zeros, and ``h_last`` keeps the state the latest chunk ended with."""

    def __init__(self, model):
        self.model, self.params = model, model.params
        self.input_size, self.hidden_size = model.input_size, model.hidden_size
        self.h0 = self.h_last = None

    def loss(self, x, y, h0=None, reduction="sum"):
        if self.h0 is not None:
            h0, self.h0 = self.h0, None
        loss, grads, self.h_last = self.model.loss(x, y, h0=h0, reduction=reduction)
        return loss, grads, self.h_last


def _stop_on_sigint():
    """Install a SIGINT handler: the first Ctrl-C asks training to stop after the current
    update (then the model is saved); a second one stops at once, saving nothing."""

    class Stopped:
        flag = False
        previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if Stopped.flag:
            raise KeyboardInterrupt
        Stopped.flag = True
        print("\nstopping after this update to save the model (Ctrl-C again: stop without saving)",
              file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    return Stopped


class _Progress:
    """One line on stderr, redrawn at most ten times a second when stderr is a terminal:
    update count, mean training bits per character over the last 100 updates, the latest
    validation bits per character, speed. Otherwise one line after each evaluation."""

    def __init__(self, first, last, seq_len, unigram, out=None):
        self.first, self.last, self.T, self.unigram = first, last, seq_len, unigram
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.recent, self.val = collections.deque(maxlen=100), None
        self.start = self.drawn = time.perf_counter()
        self.elapsed = 0.0
        if unigram is not None:
            print(f"unigram baseline on the validation text: {unigram:.3f} bits/char", file=self.out)

    def update(self, step, loss, val):
        self.recent.append(loss / self.T / math.log(2))  # loss: nats per T characters of a stream
        now = time.perf_counter()
        self.elapsed = now - self.start
        new_val, self.val = val is not None and val != self.val, val
        if self.tty and (now - self.drawn >= 0.1 or step == self.last):
            self.out.write("\r" + self._line(step) + "\033[K")
            self.out.flush()
            self.drawn = now
        elif not self.tty and new_val:
            print(self._line(step), file=self.out)

    def _line(self, step):
        done, total = step - self.first, self.last - self.first
        filled = 20 * done // total
        rate = done / max(self.elapsed, 1e-9)
        left = round((total - done) / max(rate, 1e-9))
        val = "" if self.val is None else f"  val {self.val:.3f}"
        return (f"update {step}/{self.last} [{'#' * filled}{'.' * (20 - filled)}] train {np.mean(self.recent):.3f} "
                f"bits/char{val}  {rate:.0f}/s  {left // 60}:{left % 60:02d} left")

    def close(self):
        if self.tty:
            self.out.write("\n")


def _settings(args, resumed):
    """The run's settings: the options given, else the saved ones when resuming, else DEFAULTS.
    A resumed run must keep KEPT_ON_RESUME; --lr, --clip and --eval-every may change."""
    given = {k: getattr(args, k) for k in DEFAULTS if k != "steps" and getattr(args, k) is not None}
    given.update({} if args.lr is None else {"lr": args.lr})
    if resumed is None:
        settings = {**DEFAULTS, **given}
        settings.setdefault("lr", DEFAULT_LR[settings["optimizer"]])
        return settings
    saved = {**resumed.training, "cell": resumed.cell, "hidden": resumed.model.hidden_size}
    if resumed.optimizer is not None:
        saved["optimizer"] = "sgd" if isinstance(resumed.optimizer, SGD) else "adagrad"
        saved["lr"] = resumed.optimizer.lr
    for key in KEPT_ON_RESUME:
        if key in given and key in saved and given[key] != saved[key]:
            option = "--" + key.replace("_", "-")
            raise UserError(f"{option}: expected {saved[key]!r}, the value {args.resume} was trained with "
                            f"(leave it out to keep it), got {given[key]!r}")
    settings = {**DEFAULTS, **{k: v for k, v in saved.items() if k in DEFAULTS or k == "lr"}, **given}
    settings.setdefault("lr", DEFAULT_LR[settings["optimizer"]])
    return settings


def _split(text, val_fraction):
    """Training and validation text: Chapter 6's ``train_val_split`` (the last lines, without
    those that also occur in the training part), or, for text it cannot split (one line), the
    last characters. ``val_fraction`` 0: no validation."""
    if val_fraction == 0:
        return text, ""
    try:
        return train_val_split(text, val_fraction)
    except ValueError:
        cut = round(len(text) * (1 - val_fraction))
        return text[:cut], text[cut:]


# --------------------------------------------------------- sample and eval --


def _sample(args):
    saved = _load(args.model)
    vocab = saved.vocab
    seed_text = args.seed_text
    if seed_text is None:  # a newline if the model knows one, else its most common character
        common = vocab.chars[int(np.argmax(saved.counts))] if saved.counts is not None else vocab.chars[0]
        seed_text = "\n" if "\n" in vocab.index else common
    if not seed_text:
        raise UserError("--seed-text: expected at least one character, got an empty string")
    _check_known(seed_text, vocab, "--seed-text", f"the vocabulary of {args.model}")
    rng = np.random.default_rng(args.seed)  # no --seed: a fresh draw every run
    ids = saved.model.sample(vocab.encode(seed_text), args.n, rng=rng, temperature=args.temperature)
    print(seed_text + vocab.decode(ids))
    return 0


def _eval(args):
    saved = _load(args.model)
    text = _read_text(args.text_file)
    _check_known(text, saved.vocab, args.text_file, f"the vocabulary of {args.model}")
    if len(text) < 2:
        raise UserError(f"{args.text_file}: expected at least two characters to score, got {len(text)}")
    ids = saved.vocab.encode(text)
    streams = batchify(ids, max(1, min(64, len(ids) // 10_000)))  # streams of 10 000 characters or more
    bpc = bits_per_char(saved.model, streams)
    K = len(saved.vocab)
    print(f"{args.model} on {args.text_file}: {bpc:.3f} bits/char over {streams[:, 1:].size} characters")
    if saved.counts is not None:
        train_ids = np.repeat(np.arange(K), saved.counts)
        unigram = unigram_bits_per_char(train_ids, streams[:, 1:], K)
        verdict = f"the model beats it by {unigram - bpc:.3f}" if bpc < unigram else "the model does not beat it"
        print(f"unigram baseline (the training text's character frequencies): {unigram:.3f} bits/char; {verdict}")
    print(f"uniform guess over the {K} characters: {math.log2(K):.3f} bits/char")
    return 0


# ------------------------------------------------------------------ inputs --


def _read_text(path):
    """The UTF-8 text of ``path`` (a byte-order mark dropped, CRLF line ends made LF)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UserError(f"{path}: expected a readable text file, got {error.strerror.lower()}") from None
    if not data:
        raise UserError(f"{path}: expected a text file, got an empty file")
    if b"\0" in data:
        raise UserError(f"{path}: expected a text file, got a binary file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: expected UTF-8 text, got byte 0x{data[error.start]:02x} at offset "
                        f"{error.start} (a binary file, or another encoding)") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _check_known(text, vocab, name, what):
    unknown = sorted(set(text) - vocab.index.keys())
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10
                                                              else "")
        raise UserError(f"{name}: expected only characters of {what}, got {shown}")


def _load(path):
    try:
        return load_checkpoint(path)
    except OSError as error:
        raise UserError(f"{path}: expected an rnnlib model file, got {error.strerror.lower()}") from None
    except ValueError as error:
        raise UserError(str(error)) from None


def _check_writable(path):
    """Fail now, not after training, if ``path`` cannot be written."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise UserError(f"--save {path}: expected a file name, got a folder (try {path / 'model.npz'})")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"--save {path}: expected a path in an existing folder, got {folder}, which {why}")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".tmp"):
            pass  # the way save_checkpoint writes
    except OSError as error:
        raise UserError(f"--save {path}: expected a folder we can write in, got {folder} "
                        f"({error.strerror.lower()})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"--save {path}: expected a file we can write, got a read-only one")


# ------------------------------------------------------------------ parser --


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage text
        self.exit(2, f"rnnlib: error: {message} (see {self.prog} --help)\n")


def _number(kind, low, *, low_ok=True, below=None):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not low_ok) or \
                (below is not None and value >= below):
            bound = f"{'>=' if low_ok else '>'} {low}" + ("" if below is None else f" and < {below}")
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text}")
        return value
    return parse


def _parser(prog):
    parser = _Parser(prog=prog, description="Train a character language model on a text file, sample "
                     "from it and score it (rnnlib, the library of the RNN course).",
                     epilog="Exit status: 0 done, 1 bad input (one line, 'rnnlib: error: ...'), 2 an option "
                     "that does not parse, 130 stopped by Ctrl-C (the model saved).")
    parser.add_argument("--version", action="version", version=f"rnnlib {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="{train,sample,eval}")
    default = " (default %(default)s)"
    kept = "; kept when resuming)"

    train = commands.add_parser("train", help="train a model on a UTF-8 text file and save it",
                                description="Train a character language model on a UTF-8 text file "
                                "(chunked truncated BPTT over parallel streams, Chapter 6) and save it. "
                                "Ctrl-C saves the model after the current update; --resume continues it.")
    train.add_argument("text_file", metavar="TEXT_FILE")
    train.add_argument("--save", metavar="MODEL.npz", help="where to write the model (default: the "
                       "--resume file); checked before training starts")
    train.add_argument("--resume", metavar="MODEL.npz", help="continue training this model, with its "
                       "optimiser state and its place in the text")
    train.add_argument("--cell", choices=CELLS, help="the recurrent cell: only elman (tanh) exists today; the "
                       "saved file records it so that gated cells (gru, lstm) can be added (default elman" + kept)
    train.add_argument("--hidden", type=_number(int, 1), metavar="H", help="hidden units (default 128" + kept)
    train.add_argument("--seq-len", type=_number(int, 1), metavar="T", help="characters per chunk, the steps "
                       "BPTT runs through (default 25" + kept)
    train.add_argument("--batch", type=_number(int, 1), metavar="B", help="parallel streams (default 32" + kept)
    train.add_argument("--steps", type=_number(int, 1), default=DEFAULTS["steps"], metavar="N",
                       help="updates to run now" + default)
    train.add_argument("--optimizer", choices=("sgd", "adagrad"), help="the update rule (default sgd" + kept)
    train.add_argument("--lr", type=_number(float, 0, low_ok=False), metavar="ETA",
                       help="learning rate (default 0.0625 for sgd, 0.1 for adagrad)")
    train.add_argument("--clip", type=_number(float, 0), metavar="C", help="clip the gradient to this global "
                       "norm, 0 for no clipping (default 25)")
    train.add_argument("--val-fraction", type=_number(float, 0, below=1), metavar="F", help="share of the text "
                       "held out for validation, its last lines; 0 for none (default 0.1" + kept)
    train.add_argument("--eval-every", type=_number(int, 1), metavar="N", help="updates between validation "
                       "scores (default 100)")
    train.add_argument("--seed", type=_number(int, 0), metavar="S", help="seed of the initial weights "
                       "(default 0" + kept)
    train.set_defaults(run=_train, prog=prog)

    sample = commands.add_parser("sample", help="print text generated by a saved model",
                                 description="Print the seed text followed by N characters drawn from a "
                                 "saved model, each fed back as the next input.")
    sample.add_argument("model", metavar="MODEL.npz")
    sample.add_argument("--seed-text", metavar="TEXT", help="text the model reads first (default: a newline, "
                        "or the commonest character of a text without one)")
    sample.add_argument("-n", type=_number(int, 0), default=500, metavar="N", help="characters to generate"
                        + default)
    sample.add_argument("--temperature", type=_number(float, 0, low_ok=False), default=1.0, metavar="TAU",
                        help="divides the scores before the softmax; below 1 is more conservative" + default)
    sample.add_argument("--seed", type=_number(int, 0), metavar="S", help="random seed (default: a fresh draw "
                        "each run)")
    sample.set_defaults(run=_sample)

    evaluate = commands.add_parser("eval", help="bits per character of a saved model on a text file",
                                   description="Score a saved model on a UTF-8 text file in bits per "
                                   "character, next to the unigram baseline of its training text.")
    evaluate.add_argument("model", metavar="MODEL.npz")
    evaluate.add_argument("text_file", metavar="TEXT_FILE")
    evaluate.set_defaults(run=_eval)
    return parser
