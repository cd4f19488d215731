"""Mutation score of the hardware-model modules: mutmut against the fast tests/hw/test_hw_*.py.

    python benchmarks/mutation.py --json OUT.json [--modules PATH ...] [--max-children 2]
                                  [--workdir DIR]

The modules and the tests come from ``[tool.mutmut]`` in pyproject.toml. mutmut runs in a
fresh copy of src/, tests/ and pyproject.toml (a temporary folder unless ``--workdir``), so
it neither sees a stale ``mutants/`` cache nor disturbs the work tree. Every mutant is one
small change to one function (an operator, a constant, a dropped argument, …); mutmut runs
the tests that call that function, and the mutant is *killed* when one of them fails or
times out.

OUT gets ``{"tool": "mutmut X.Y.Z", "modules": {path: {"killed", "survived", "equivalent",
"total"}}, "score": {path: killed / (total − equivalent)}, "survivors": {path: [...]},
"wall_seconds": s}``. "survived" counts every mutant not killed (mutmut's survived and
no-tests); "equivalent" those survivors listed in benchmarks/mutation_equivalent.toml — a
mutant that no test can kill because it does not change what the function computes — each
with its one-line reason. A survivor is matched to the list by function and by the
changed line (before and after), not by mutmut's number, which shifts when the code does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.toml")
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
LINE = re.compile(r"^    (?P<name>\S+): (?P<status>.+)$")


def module_of(path: str) -> str:
    """Dotted module name of a source path: src/rnn2snn/program/neuron.py → rnn2snn.program.neuron."""
    p = Path(path)
    parts = p.with_suffix("").parts
    return ".".join(parts[1:] if parts[0] == "src" else parts)


def load_equivalents() -> list[dict]:
    if not EQUIVALENT_FILE.is_file():
        return []
    entries = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8")).get("equivalent", [])
    for k, e in enumerate(entries):
        missing = {"function", "before", "after", "reason"} - set(e)
        if missing:
            raise SystemExit(f"{EQUIVALENT_FILE.name}: entry {k} lacks {', '.join(sorted(missing))}")
    return entries


def copy_tree(work: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")


def mutmut_command() -> str:
    exe = shutil.which("mutmut") or str(Path(sys.executable).with_name("mutmut"))
    if not Path(exe).exists():
        raise SystemExit("mutmut is not installed: pip install 'mutmut>=3.8,<4'")
    return exe


def changed_lines(diff: str) -> tuple[str, str]:
    """The removed and the added lines of a unified diff, stripped, one per line."""
    before, after = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            before.append(line[1:].strip())
        elif line.startswith("+"):
            after.append(line[1:].strip())
    return "\n".join(before), "\n".join(after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--modules", nargs="+", metavar="PATH",
                        help="source files to mutate (default: all of [tool.mutmut] only_mutate)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs")
    parser.add_argument("--workdir", help="run here (must not exist yet) and keep it; default: a "
                                          "temporary folder, removed afterwards")
    args = parser.parse_args()

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    listed = list(config["only_mutate"])
    modules = args.modules or listed
    unknown = [m for m in modules if m not in listed]
    if unknown:
        parser.error(f"--modules {' '.join(unknown)}: not in [tool.mutmut] only_mutate of pyproject.toml "
                     f"({', '.join(listed)})")
    equivalents = load_equivalents()
    exe = mutmut_command()
    tool = f"mutmut {version('mutmut')}"

    if args.workdir:
        work = Path(args.workdir).resolve()
        if work.exists():
            parser.error(f"--workdir {work} exists already: give a new folder")
        work.mkdir(parents=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="rnn2snn-mutation-"))
    start = time.perf_counter()
    try:
        copy_tree(work)
        names = [] if set(modules) == set(listed) else [f"{module_of(m)}.*" for m in modules]
        log = work / "mutmut-run.log"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        print(f"{tool}: mutating {len(modules)} module(s) in {work} (log: {log})", flush=True)
        with open(log, "w", encoding="utf-8") as out:
            rc = subprocess.call([exe, "run", "--max-children", str(args.max_children), *names],
                                 cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env)
        if rc != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"mutmut run failed (exit {rc}); end of {log}:\n{tail}")
        listing = subprocess.run([exe, "results", "--all", "true"], cwd=work, env=env, check=True,
                                 capture_output=True, text=True).stdout
        status = {}
        for line in listing.splitlines():
            m = LINE.match(line)
            if m:
                status[m["name"]] = m["status"]
        result = {"tool": tool, "modules": {}, "score": {}, "survivors": {}}
        for path in modules:
            prefix = module_of(path) + "."
            mine = {k: v for k, v in status.items() if k.startswith(prefix)}
            not_run = [k for k, v in mine.items() if v in ("not checked", "check was interrupted by user")]
            if not mine or not_run:
                raise SystemExit(f"{path}: {len(mine)} mutants, {len(not_run)} not run (see {log})")
            killed = sum(v in KILLED for v in mine.values())
            survivors = []
            for name in sorted(k for k, v in mine.items() if v not in KILLED):
                shown = subprocess.run([exe, "show", name], cwd=work, env=env, check=True,
                                       capture_output=True, text=True).stdout
                before, after = changed_lines(shown)
                function = name.partition("__mutmut_")[0]
                reason = next((e["reason"] for e in equivalents if e["function"] == function
                               and e["before"].strip() == before and e["after"].strip() == after), None)
                survivors.append({"name": name, "status": mine[name], "before": before, "after": after,
                                  "equivalent": reason})
            equivalent = sum(s["equivalent"] is not None for s in survivors)
            total = len(mine)
            result["modules"][path] = {"killed": killed, "survived": total - killed,
                                       "equivalent": equivalent, "total": total}
            result["score"][path] = killed / (total - equivalent) if total > equivalent else 1.0
            result["survivors"][path] = survivors
            print(f"{path}: killed {killed} / {total}, equivalent {equivalent}, "
                  f"score {result['score'][path]:.3f}", flush=True)
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        sys.path.insert(0, str(ROOT / "src"))
        from rnn2snn._atomic import write_text_atomic

        write_text_atomic(args.json, json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.json} ({result['wall_seconds']} s)")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
