"""Mutation testing of rnnlib's numeric modules with mutmut: ./dev mutation [MODULE ...].

A mutant is rnnlib with one operator, constant, comparison, argument or string
changed. A test suite that states the library's properties makes some test fail
for every mutant that changes a result; a mutant no test kills is either a gap in
the tests or *equivalent* (it cannot change any result, e.g. a threshold choosing
between two code paths that compute the same sum).

Each module of ``modules.toml`` is mutated on its own, in a scratch copy of the
project (``$MUTATION_WORKDIR``, default ``$TMPDIR/rnnlib-mutation``), against the
test modules mapped to it. The report gives, per module, the number of mutants,
the killed ones and the score (killed / all), then every survivor with its file,
line and change. A survivor listed in ``equivalent.toml`` (matched by module,
function, original line and mutated line, so line shifts do not matter) is known
and explained; any other survivor is new and makes the command fail.

    python tests/mutation/run.py                 every module
    python tests/mutation/run.py rnn loss        some modules
    python tests/mutation/run.py --record        also write scores.json

Options: ``--workers N`` (default 2), ``--workdir DIR``, ``--keep`` (reuse the
killed verdicts of an earlier run in the work directory: every mutant of a
changed function and every mutant not killed last time is rerun against the
current tests; sound while tests are only added, so record scores from a fresh
run after a test was removed or weakened).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODULES_FILE = HERE / "modules.toml"
EQUIVALENT_FILE = HERE / "equivalent.toml"
SCORES_FILE = HERE / "scores.json"

# mutmut's exit codes for a mutant (mutmut.stats.status_by_exit_code): killed means a test
# failed (1), pytest hit an internal error (3) or the run timed out (SIGXCPU).
KILLED = {1, 3, -24, 24, 152, 255, 36}
SURVIVED = 0
NO_TESTS = {5, 33}

# pytest in every mutant run: no plugin autoloading (nbval and the Jupyter stack cost ~6 s
# per pytest start and test nothing here), but hypothesis' plugin, which the tests use.
PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "_hypothesis_pytestplugin"]
ENV = {
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    "OPENBLAS_NUM_THREADS": "1",  # one thread per worker; the workers share the cores
    "OMP_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "RNNLIB_MUTATION": "1",  # tests/conftest.py: hypothesis reports a failure without shrinking it
}


@dataclass
class Mutant:
    name: str  # mutmut's key, e.g. rnnlib.rnn.x_bptt_deltas__mutmut_13
    status: str  # killed, survived, no tests, not checked, other
    function: str  # e.g. bptt_deltas or SGD.step
    line: int  # line of the original source the change is on
    old: str  # the original line(s), stripped, joined by newlines
    new: str  # the mutated line(s), stripped, joined by newlines
    reason: str | None = None  # from equivalent.toml when known


def load_modules() -> dict[str, dict]:
    with open(MODULES_FILE, "rb") as f:
        return tomllib.load(f)["modules"]


def load_equivalents() -> list[dict]:
    with open(EQUIVALENT_FILE, "rb") as f:
        return tomllib.load(f).get("equivalent", [])


def default_workdir() -> Path:
    return Path(os.environ.get("MUTATION_WORKDIR") or Path(tempfile.gettempdir()) / "rnnlib-mutation")


def mutmut_config(module: dict) -> str:
    """The [tool.mutmut] table for one module: mutate its file, run its test modules."""
    sources = module["source"] if isinstance(module["source"], list) else [module["source"]]
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["rnnlib"]',
        f"only_mutate = {json.dumps(sources)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(module['tests'])}",
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}",
        "use_git_change_detection = false",
        "",
    ]
    return "\n".join(lines)


def prepare(workdir: Path, module: dict, *, keep: bool) -> None:
    """A scratch copy of the package and the tests, with a pyproject.toml configuring mutmut."""
    if workdir.exists() and not keep:
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in ("rnnlib", "tests"):
        shutil.copytree(ROOT / name, workdir / name, ignore=ignore, dirs_exist_ok=True)
    text = (ROOT / "pyproject.toml").read_text()
    (workdir / "pyproject.toml").write_text(text + mutmut_config(module))


def forget_survivors(workdir: Path, module: dict) -> int:
    """Clear mutmut's stored verdict of every mutant an earlier run did not kill; return how many.

    mutmut itself reruns only the mutants of functions whose code changed, so a survivor
    of an unchanged function would stay a survivor after the test that kills it was added.
    """
    meta_path = workdir / "mutants" / (module["source"] + ".meta")
    if not meta_path.exists():
        return 0
    meta = json.loads(meta_path.read_text())
    codes = meta["exit_code_by_key"]
    stale = [k for k, code in codes.items() if code is not None and code not in KILLED]
    for k in stale:
        codes[k] = None
    meta_path.write_text(json.dumps(meta, indent=4))
    return len(stale)


def mutmut_binary() -> str:
    candidate = Path(sys.executable).parent / "mutmut"
    return str(candidate) if candidate.exists() else "mutmut"


def run_mutmut(workdir: Path, workers: int) -> tuple[int, float, float]:
    """Run ``mutmut run`` in ``workdir``; return its exit code, wall seconds and CPU seconds.

    The CPU time (of mutmut and every process it started) does not depend on what else
    the machine is doing, as the wall time does.
    """
    env = {**os.environ, **ENV}
    start, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(workdir / "mutmut.log", "w") as log:
        code = subprocess.call([mutmut_binary(), "run", "--max-children", str(workers)],
                               cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return code, time.monotonic() - start, cpu


def status_of(exit_code) -> str:
    if exit_code is None:
        return "not checked"
    if exit_code in KILLED:
        return "killed"
    if exit_code == SURVIVED:
        return "survived"
    if exit_code in NO_TESTS:
        return "no tests"
    return f"exit code {exit_code}"


def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """``{"name" or "Class.name": (first line, last line)}`` of the top-level functions and methods."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            spans[node.name] = (node.lineno, node.end_lineno)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    spans[f"{node.name}.{item.name}"] = (item.lineno, item.end_lineno)
    return spans


def describe(name: str, diff: str, source_lines: list[str], spans: dict) -> tuple[str, int, str, str]:
    """(function, line, old text, new text) of one mutant from mutmut's diff of its function."""
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    func, cls = orig_function_and_class_names_from_key(name)
    function = f"{cls}.{func}" if cls else func
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    old = [line[1:] for line in body if line.startswith("-")]
    new = [line[1:] for line in body if line.startswith("+")]
    first, last = spans.get(function, (1, len(source_lines)))
    line = first
    if old:
        # The first changed line of the function, after the same context lines as in the diff
        # (a line such as a loop's body can occur twice in one function).
        want = [h[1:].strip() for h in body[:next(i for i, h in enumerate(body) if h.startswith("-")) + 1]]
        text = [t.strip() for t in source_lines]
        matches = [n for n in range(first, last + 1) if text[n - 1] == want[-1]]
        line = next((n for n in matches if text[max(0, n - len(want)):n] == want), matches[0] if matches else first)
    return function, line, "\n".join(s.strip() for s in old), "\n".join(s.strip() for s in new)


def collect(workdir: Path, module_name: str, module: dict) -> list[Mutant]:
    """Every mutant of the module with its status and change, from mutmut's files in ``workdir``."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    source_path = module["source"]
    meta = json.loads((workdir / "mutants" / (source_path + ".meta")).read_text())
    source = (workdir / source_path).read_text()
    source_lines, spans = source.splitlines(), function_spans(source)
    known = {(e["function"], e["original"], e["mutant"]): e["reason"]
             for e in load_equivalents() if e["module"] == module_name}
    mutants = []
    old_cwd = os.getcwd()
    os.chdir(workdir)
    try:
        for name, exit_code in sorted(meta["exit_code_by_key"].items(), key=lambda kv: _mutant_order(kv[0])):
            status = status_of(exit_code)
            if status == "killed":
                mutants.append(Mutant(name, status, "", 0, "", ""))
                continue
            diff = get_diff_for_mutant(name, path=source_path)
            function, line, old, new = describe(name, diff, source_lines, spans)
            reason = known.get((function, old, new)) if status == "survived" else None
            mutants.append(Mutant(name, status, function, line, old, new, reason))
    finally:
        os.chdir(old_cwd)
    return mutants


def _mutant_order(name: str):
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def _one_line(text: str) -> str:
    return text.replace("\n", " \u23ce ")


def summarize(mutants: list[Mutant]) -> dict:
    total = len(mutants)
    killed = sum(m.status == "killed" for m in mutants)
    equivalent = sum(m.reason is not None for m in mutants)
    return {"mutants": total, "killed": killed, "equivalent": equivalent,
            "unexplained": total - killed - equivalent,
            "score": round(killed / total, 4) if total else None}


def stale_equivalents(module_name: str, mutants: list[Mutant]) -> list[dict]:
    """Entries of equivalent.toml for this module that no surviving mutant matches any more."""
    seen = {(m.function, m.old, m.new) for m in mutants if m.status == "survived"}
    return [e for e in load_equivalents()
            if e["module"] == module_name and (e["function"], e["original"], e["mutant"]) not in seen]


def report_module(module_name: str, module: dict, mutants: list[Mutant], seconds: float, cpu: float) -> dict:
    summary = summarize(mutants)
    summary["seconds"], summary["cpu_seconds"] = round(seconds), round(cpu)
    source = (ROOT / module["source"]).read_bytes()
    summary["source_sha256"] = hashlib.sha256(source).hexdigest()[:16]  # the code these scores are for
    score = summary["score"]
    print(f"\n{module_name} ({module['source']}): {summary['mutants']} mutants, {summary['killed']} killed, "
          f"score {100 * score:.1f}%, {summary['equivalent']} known equivalent, "
          f"{summary['unexplained']} unexplained; {seconds:.0f} s ({cpu:.0f} s CPU)")
    for m in mutants:
        if m.status == "killed":
            continue
        tag = "equivalent" if m.reason else ("NEW SURVIVOR" if m.status == "survived" else m.status.upper())
        print(f"  {module['source']}:{m.line} in {m.function} [{tag}] {m.name.rpartition('.')[2]}")
        print(f"      - {_one_line(m.old)}")
        print(f"      + {_one_line(m.new)}")
    for e in stale_equivalents(module_name, mutants):
        print(f"  stale entry in equivalent.toml (no surviving mutant matches): {e['function']}: "
              f"{e['original']!r} -> {e['mutant']!r}")
    return summary


def record(summaries: dict[str, dict]) -> None:
    """Merge the summaries into scores.json (modules not run this time keep their entries)."""
    data = json.loads(SCORES_FILE.read_text()) if SCORES_FILE.exists() else {}
    from importlib.metadata import version

    data["tool"] = f"mutmut {version('mutmut')}"
    data["machine"] = f"{os.cpu_count()} cores, {ENV['OPENBLAS_NUM_THREADS']} BLAS thread per worker"
    data.setdefault("modules", {}).update(summaries)
    data["modules"] = dict(sorted(data["modules"].items()))
    SCORES_FILE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nrecorded in {SCORES_FILE.relative_to(ROOT)}")


# ------------------------------------------------------------------ sample --
# A short check for CI (tests/test_mutation.py): a seeded sample of mutants per module,
# each run against the module's tests. A test deleted or weakened by mistake lets the
# mutants it alone killed survive; a sample finds that with some probability, the full
# run always. mutmut makes the mutants (its operators, inside functions only, as in the
# full run); each is written into its own copy of the package, so no mutmut machinery
# runs with the tests.

SAMPLE_TIMEOUT = 120  # seconds; a mutant that makes the tests hang counts as killed, as in mutmut


def sample(names: list[str], per_module: int, seed: int, workers: int, workroot: Path) -> int:
    """Draw ``per_module`` mutants of each module (known equivalents excepted) and run them."""
    from concurrent.futures import ThreadPoolExecutor

    modules = load_modules()
    workdir = workroot / "sample"
    if workdir.exists():
        shutil.rmtree(workdir)
    prepare(workdir / "original", {"source": [modules[n]["source"] for n in names], "tests": []}, keep=False)
    start = time.monotonic()
    drawn = []  # (module name, Mutant, mutated source)
    for name in names:
        drawn += draw(name, modules[name]["source"], workdir / "original", per_module, seed)
        if sum(d[0] == name for d in drawn) < per_module:  # a sample of nothing would pass vacuously
            print(f"error: found fewer than {per_module} mutants of {modules[name]['source']} to sample")
            return 2
    # The plumbing: a package that cannot be imported must make the tests fail.
    broken = 'raise ImportError("rnnlib mutation sample: this copy is broken on purpose")\n'
    code, _, output = _run_copy(workdir, "broken", modules[names[0]], broken)
    if code in (0, 5) or "broken on purpose" not in output:
        print(f"error: the tests of {names[0]} did not import the copy of rnnlib they were given "
              f"(exit code {code}):\n{output[-2000:]}")
        return 2

    def run(item):
        index, (name, _, mutated) = item
        return _run_copy(workdir, f"m{index}", modules[name], mutated)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(run, enumerate(drawn)))
    survivors = 0
    for (name, m, _), (code, seconds, output) in zip(drawn, results, strict=True):
        status = _sample_status(code, output, modules[name]["source"])
        survivors += status != "killed"
        print(f"{status:>8} {seconds:5.1f} s  {modules[name]['source']}:{m.line} in {m.function}: "
              f"{_one_line(m.old)}  ->  {_one_line(m.new)}")
        if status not in ("killed", "survived"):
            print(output[-2000:])
    print(f"{len(drawn) - survivors} of {len(drawn)} sampled mutants killed (seed {seed}, {per_module} per "
          f"module); {time.monotonic() - start:.0f} s")
    if survivors:
        print("A survivor is a mutant the full run had killed (or a new one): a test was lost or weakened, "
              "or the code changed. Run ./dev mutation MODULE for the module's full report.")
    return 1 if survivors else 0


def _sample_status(code: int | None, output: str, source: str) -> str:
    """killed, survived or what else happened to one sampled mutant.

    Killed means a test failed (pytest's summary says so), the tests timed out, or the
    mutated module itself could not be imported (the error names its file): a copy whose
    tests error out for another reason (a lost fixture, a missing package) is not a kill.
    """
    if code is None:
        return "killed"
    if code == 0:
        return "survived"
    if code == 1 and re.search(r"\b\d+ failed\b", output):
        return "killed"
    if code in (1, 2) and source in output and "Error" in output:
        return "killed"
    return f"exit code {code}"


def draw(module_name: str, path: str, tree: Path, count: int, seed: int) -> list[tuple[str, Mutant, str]]:
    """``count`` mutants of ``path`` (in ``tree``), drawn with ``seed``: (module, Mutant, mutated source)."""
    import difflib
    import random

    old_cwd = os.getcwd()
    os.chdir(tree)  # mutmut reads its configuration from ./pyproject.toml
    try:
        from mutmut.mutation.file_mutation import create_mutations

        source = Path(path).read_text()
        module, mutations, _, _ = create_mutations(path, source)
    finally:
        os.chdir(old_cwd)
    inside = [m for m in mutations if m.contained_by_top_level_function is not None]  # as mutmut runs them
    order = list(range(len(inside)))
    random.Random(f"{seed}:{module_name}").shuffle(order)
    known = {(e["function"], e["original"], e["mutant"]) for e in load_equivalents() if e["module"] == module_name}
    lines, spans, chosen = source.splitlines(), function_spans(source), []
    for i in order:
        mutated = module.deep_replace(inside[i].original_node, inside[i].mutated_node).code
        new_lines = mutated.splitlines()
        changed = [op for op in difflib.SequenceMatcher(a=lines, b=new_lines, autojunk=False).get_opcodes()
                   if op[0] != "equal"]
        if not changed:
            continue
        a0, a1, b0, b1 = changed[0][1], changed[-1][2], changed[0][3], changed[-1][4]
        line = a0 + 1
        function = next((f for f, (first, last) in spans.items() if first <= line <= last), "?")
        old = "\n".join(s.strip() for s in lines[a0:a1])
        new = "\n".join(s.strip() for s in new_lines[b0:b1])
        if (function, old, new) in known:
            continue
        chosen.append((module_name, Mutant(f"{module_name}:{i}", "not checked", function, line, old, new), mutated))
        if len(chosen) == count:
            break
    return chosen


def _run_copy(workdir: Path, label: str, module: dict, mutated: str) -> tuple[int | None, float, str]:
    """Run the module's tests on a copy of the project whose module source is ``mutated``.

    Returns (exit code, seconds, output); the exit code is None after a timeout.
    """
    tree = workdir / label
    shutil.copytree(workdir / "original", tree, ignore=shutil.ignore_patterns("mutants"))
    (tree / module["source"]).write_text(mutated)
    env = {**os.environ, **ENV}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--rootdir=.", *PYTEST_ARGS,
                               *module["tests"]], cwd=tree, env=env, capture_output=True, text=True,
                              timeout=SAMPLE_TIMEOUT)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = None, "timed out"
    shutil.rmtree(tree)
    return code, time.monotonic() - start, output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modules = load_modules()
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"some of: {', '.join(modules)}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier run's results in the work directory")
    parser.add_argument("--record", action="store_true", help="write the scores to tests/mutation/scores.json")
    parser.add_argument("--sample", type=int, metavar="N", help="only run N mutants per module, drawn with --seed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; expected some of {list(modules)}")
    workroot = args.workdir or default_workdir()
    if args.sample:
        return sample(args.modules or list(modules), args.sample, args.seed, args.workers, workroot)
    summaries, failed = {}, []
    for name in args.modules or list(modules):
        module = modules[name]
        workdir = workroot / name
        print(f"==> {name}: mutating {module['source']} against {', '.join(module['tests'])} "
              f"({args.workers} workers; log in {workdir / 'mutmut.log'})", flush=True)
        prepare(workdir, module, keep=args.keep)
        if args.keep:
            rerun = forget_survivors(workdir, module)
            print(f"    reusing killed verdicts; {rerun} earlier survivors rerun", flush=True)
        code, seconds, cpu = run_mutmut(workdir, args.workers)
        if code != 0:
            print(f"mutmut failed (exit code {code}); the end of its log:")
            print((workdir / "mutmut.log").read_text()[-3000:])
            failed.append(name)
            continue
        mutants = collect(workdir, name, module)
        summaries[name] = report_module(name, module, mutants, seconds, cpu)
        if args.keep:  # the times are those of this rerun, not of a full run
            summaries[name]["reused_killed_verdicts"] = True
        if summaries[name]["unexplained"] or stale_equivalents(name, mutants):
            failed.append(name)
    print("\nmodule        mutants  killed  equivalent  unexplained   score    wall     CPU")
    for name, s in summaries.items():
        print(f"{name:<12} {s['mutants']:>8} {s['killed']:>7} {s['equivalent']:>11} {s['unexplained']:>12} "
              f"{100 * s['score']:>6.1f}% {s['seconds']:>5} s {s['cpu_seconds']:>5} s")
    if args.record and summaries:
        record(summaries)
    if failed:
        print(f"\nnot clean: {', '.join(failed)} (new survivors, stale equivalent entries or a failed run)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
