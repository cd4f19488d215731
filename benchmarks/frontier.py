"""The accuracy–cores–power frontier over several sweeps: one table and one picture.

    python benchmarks/frontier.py runs/sweep-a runs/sweep-b --out runs/frontier

Each argument is a finished ``rnn2snn sweep`` folder (its ``sweep.json``); the rows of
all of them are written together by :func:`rnn2snn.sweep.write_sweep` (``sweep.csv``,
``sweep.json`` with the best design by validation, ``sweep.png`` with the Pareto front),
each row tagged with the sweep it came from. An ensemble row of K members also gives
the designs of its first k < K members (``first_k_val``/``first_k_test``: what the
program of those k members computes; cores and core-share power scale with k). The
picture in the README (``docs/frontier.png``) is this script's ``sweep.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.report.plots import TREC_PAPER_POINT
from rnn2snn.sweep import RESULT_KEYS, write_sweep


def first_k_rows(row: dict) -> list[dict]:
    """The designs of an ensemble row's first k members, k = 1 … K − 1."""
    if not row.get("first_k_val"):
        return []
    vals = [float(v) for v in row["first_k_val"].split()]
    tests = [float(v) for v in row["first_k_test"].split()]
    big = len(vals)
    # the design's own settings, not its results (the teacher is drawn once, from its row)
    design = {k: v for k, v in row.items() if k not in RESULT_KEYS}
    return [{**design,
             "ensemble": k, "cores": row["cores"] * k // big, "power_uw": row["power_uw"] * k / big,
             "val_spiking": vals[k - 1], "test_spiking": tests[k - 1], "derived": f"first {k} of {big}"}
            for k in range(1, big)]


def merged_rows(folders: list[Path]) -> list[dict]:
    rows = []
    for folder in folders:
        path = folder / "sweep.json"
        if not path.is_file():
            raise Rnn2SnnError(f"{folder}: no sweep.json (not a finished rnn2snn sweep)")
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            row = {"sweep": folder.name, **row}
            rows += [row, *first_k_rows(row)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="finished sweep folders")
    parser.add_argument("--out", required=True, help="new folder for the merged table and plot")
    args = parser.parse_args()
    rows = merged_rows(args.sweeps)
    best = write_sweep(rows, args.out, paper=TREC_PAPER_POINT)["best_by_validation"]
    print(f"{len(rows)} designs from {len(args.sweeps)} sweeps; best by validation: {best}")
    for r in rows:
        print(f"{r['sweep']:>24}  cores {r['cores']:>3}  {r['power_uw']:7.1f} µW  "
              f"val {r['val_spiking']:.3f}  test {r['test_spiking']:.3f}  {r.get('derived', '')}")


if __name__ == "__main__":
    main()
