"""Peak memory of ``rnn2snn reproduce`` on 10,000-example labelled files (issue 16: ≤ 1.0 GB).

    python benchmarks/memory.py --json OUT.json [--examples 10000] [--limit-gb 1.0] [--trec]

Writes a training and a test file of ``--examples`` TREC questions each, drawn with
replacement (fixed seed) from the copy inside the package (training lines from
``train_5500.label``, test lines from ``TREC_10.label``, coarse labels), runs
``rnn2snn reproduce --train F --test G --quiet`` in a subprocess and reads its peak
resident set size from ``getrusage(RUSAGE_CHILDREN)`` (the child is the only one).
``--trec`` runs the plain TREC job instead (no files). Exits 1 when the peak is above
``--limit-gb``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rnn2snn

TREC = Path(rnn2snn.__file__).parent / "data" / "trec_files"


def write_sample(source: Path, out: Path, n: int, seed: int) -> None:
    """``n`` lines of ``source`` drawn with replacement, coarse labels (``NUM:dist`` → ``NUM``), UTF-8."""
    lines = [line for line in source.read_text(encoding="iso-8859-1").splitlines() if line.strip()]
    rng = random.Random(seed)
    picked = (rng.choice(lines) for _ in range(n))
    out.write_text("".join(line.split(":", 1)[0] + " " + line.split(" ", 1)[1] + "\n"
                           for line in picked), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the measurement")
    parser.add_argument("--examples", type=int, default=10_000, help="examples per file (default: 10000)")
    parser.add_argument("--limit-gb", type=float, default=1.0, help="peak allowed, GB (default: 1.0)")
    parser.add_argument("--seed", type=int, default=0, help="sampling and run seed (default: 0)")
    parser.add_argument("--trec", action="store_true", help="run the plain TREC job instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnn2snn-memory-") as tmp:
        tmp = Path(tmp)
        cmd = [sys.executable, "-m", "rnn2snn.cli", "reproduce", "--seed", str(args.seed),
               "--out", str(tmp / "run"), "--quiet"]
        if not args.trec:
            write_sample(TREC / "train_5500.label", tmp / "train.label", args.examples, args.seed)
            write_sample(TREC / "TREC_10.label", tmp / "test.label", args.examples, args.seed + 1)
            cmd += ["--train", str(tmp / "train.label"), "--test", str(tmp / "test.label")]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # kB on Linux
        results = json.loads((tmp / "run" / "results.json").read_text()) if done.returncode == 0 else {}
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        print(f"reproduce failed (exit {done.returncode})", file=sys.stderr)
        return 2
    spiking = next(s for s in results["stages"] if s["name"] == "spiking")
    sampled = (f"{args.examples} training + {args.examples} test TREC lines, with replacement, "
               f"seed {args.seed}")
    report = {"data": "TREC (packaged)" if args.trec else sampled,
              "command": " ".join(cmd[3:]), "peak_rss_gb": round(peak_gb, 3), "limit_gb": args.limit_gb,
              "within_limit": peak_gb <= args.limit_gb, "wall_seconds": round(seconds, 1),
              "spiking_test_accuracy": spiking["test_accuracy"]}
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0 if report["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
