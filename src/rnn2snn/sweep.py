"""Grid search over sizes, constraints and timing: one pipeline run per point, in parallel.

``run_sweep(grid, data, backend="local")`` runs every combination of the grid's
values (e.g. ``{"hidden_dim": [16, 32], "seed": [0, 1]}``) through
:func:`rnn2snn.pipeline.run_pipeline`, locally in worker processes or on Ray
(``backend="ray"``, an optional extra). Each run uses one PyTorch thread, so a
point gives the same row on either backend. Rows hold validation and test
accuracy per stage, hardware, power and conversion figures; choose designs by
the validation columns only (:func:`select_best`).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import fields, replace
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from rnn2snn._atomic import write_json_atomic, write_text_atomic
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.pipeline import PipelineConfig
from rnn2snn.spiking.network import SpikingConfig

SPIKING_KEYS = {f.name for f in fields(SpikingConfig)}
PIPELINE_KEYS = {f.name for f in fields(PipelineConfig)} - {"train", "finetune", "spiking"}
TRAIN_KEYS = {"epochs", "lr", "finetune_epochs"}


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["hidden_dim=16,32", "seed=0,1"]`` → ``{"hidden_dim": [16, 32], "seed": [0, 1]}``."""
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not values:
            raise Rnn2SnnError(f"--grid {item!r}: expected NAME=V1,V2,...")
        if key not in SPIKING_KEYS | PIPELINE_KEYS | TRAIN_KEYS:
            raise Rnn2SnnError(
                f"--grid {key!r}: unknown parameter; choose from "
                f"{sorted(SPIKING_KEYS | PIPELINE_KEYS | TRAIN_KEYS)}")
        grid[key] = [_parse_value(v.strip()) for v in values.split(",")]
    return grid


def _parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def point_config(base: PipelineConfig, point: dict) -> PipelineConfig:
    """``base`` with the point's values applied to the pipeline, training and spiking settings."""
    pipe = {k: v for k, v in point.items() if k in PIPELINE_KEYS}
    spk = {k: v for k, v in point.items() if k in SPIKING_KEYS}
    if "delay" in spk and "neg_delay" not in spk:
        spk["neg_delay"] = spk["delay"]
    cfg = replace(base, **pipe, spiking=replace(base.spiking, **spk))
    if "epochs" in point or "lr" in point:
        cfg = replace(cfg, train=replace(cfg.train, **{k: point[k] for k in ("epochs", "lr")
                                                       if k in point}))
    if "finetune_epochs" in point:
        cfg = replace(cfg, finetune=replace(cfg.finetune, epochs=point["finetune_epochs"]))
    cfg.spiking.validate(cfg.activity_levels)
    return cfg


def expand(grid: dict[str, list]) -> list[dict]:
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def run_point(point: dict, base: PipelineConfig, data) -> dict:
    """One grid point → one row (runs in a worker)."""
    import torch

    from rnn2snn.pipeline import run_pipeline

    torch.set_num_threads(1)
    train_ex, test_ex = data
    cfg = point_config(base, point)
    result = run_pipeline(train_ex, test_ex, cfg, progress=False, log=lambda *_: None)
    res = result.to_json()
    row = dict(point)
    for s in res["stages"]:
        row[f"val_{s['name']}"] = s["val_accuracy"]
        row[f"test_{s['name']}"] = s["test_accuracy"]
    hw = res["hardware"]
    row.update(cores=hw["cores"], axons=hw["axons"], neurons=hw["neurons"],
               power_uw=hw["power_uw"], power_uw_activity=hw["power_uw_activity"],
               conversion_loss_points=res["conversion"]["loss_points"],
               prediction_differs_share=res["conversion"]["prediction_differs_share"],
               exact_count_share=res["conversion"]["exact_share"],
               seconds=round(result.wall_seconds, 1))
    return row


def run_sweep(grid: dict[str, list], data, base: PipelineConfig = PipelineConfig(),
              backend: str = "local", workers: int | None = None, progress: bool = True,
              ray_address: str | None = None) -> list[dict]:
    """Rows for every grid point, in grid order, whatever the backend."""
    points = expand(grid)
    for p in points:  # refuse bad points before any work starts
        point_config(base, p)
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(points), desc=f"sweep ({backend})", disable=not progress)
    rows: list[dict | None] = [None] * len(points)
    if backend == "local":
        # spawn, not fork: a forked PyTorch can hang on its thread pool
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(run_point, p, base, data): i for i, p in enumerate(points)}
            for fut in as_completed(futures):
                rows[futures[fut]] = fut.result()
                bar.update()
    elif backend == "ray":
        try:
            import ray
        except ImportError:
            raise Rnn2SnnError("--backend ray needs Ray: pip install 'rnn2snn[ray]'") from None
        started = not ray.is_initialized()
        if started:
            ray.init(address=ray_address, num_cpus=None if ray_address else workers,
                     include_dashboard=False, log_to_driver=False)
        try:
            remote = ray.remote(num_cpus=1)(run_point)
            data_ref = ray.put(data)
            refs = {remote.remote(p, base, data_ref): i for i, p in enumerate(points)}
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                rows[refs[done[0]]] = ray.get(done[0])
                bar.update()
        finally:
            if started:
                ray.shutdown()
    else:
        raise Rnn2SnnError(f"--backend {backend!r}: choose 'local' or 'ray'")
    bar.close()
    return rows  # type: ignore[return-value]


def pareto_front(rows: list[dict], cost: str, score: str) -> list[int]:
    """Indices of rows no other row beats (lower or equal cost and strictly higher score, or
    strictly lower cost and equal or higher score)."""
    front = []
    for i, r in enumerate(rows):
        dominated = any((o[cost] <= r[cost] and o[score] > r[score])
                        or (o[cost] < r[cost] and o[score] >= r[score]) for o in rows)
        if not dominated:
            front.append(i)
    return front


def select_best(rows: list[dict], max_cores: int | None = None,
                score: str = "val_spiking") -> dict | None:
    """The row with the best *validation* score (mean over its seeds) within a core budget."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if max_cores is not None and r["cores"] > max_cores:
            continue
        key = tuple((k, v) for k, v in r.items() if k not in _RESULT_KEYS and k != "seed")
        groups.setdefault(key, []).append(r)
    if not groups:
        return None
    key, members = max(groups.items(), key=lambda kv: sum(m[score] for m in kv[1]) / len(kv[1]))
    return {**dict(key), score: sum(m[score] for m in members) / len(members), "runs": len(members)}


_RESULT_KEYS = {"cores", "axons", "neurons", "power_uw", "power_uw_activity", "conversion_loss_points",
                "prediction_differs_share", "exact_count_share", "seconds"} | {
    f"{p}_{s}" for p in ("val", "test") for s in ("float", "fan_in", "weights", "activities", "spiking")}


def write_sweep(rows: list[dict], out: str | os.PathLike, paper=(1, 17.09, 0.74)) -> dict:
    """``sweep.csv``, ``sweep.json`` and ``sweep.png`` (accuracy vs cores and vs power)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "sweep.csv", buf.getvalue())
    best = select_best(rows)
    write_json_atomic(out / "sweep.json", {"rows": rows, "best_by_validation": best})
    from rnn2snn.report.plots import plot_sweep

    plot_sweep(rows, out / "sweep.png", paper=paper,
               front_cores=pareto_front(rows, "cores", "test_spiking"),
               front_power=pareto_front(rows, "power_uw", "test_spiking"))
    return {"best_by_validation": best}
