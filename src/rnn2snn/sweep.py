"""Grid search over sizes, constraints and timing: one pipeline run per point, in parallel.

``run_sweep(grid, data, backend="local")`` runs every combination of the grid's
values (e.g. ``{"hidden_dim": [16, 32], "seed": [0, 1]}``) through
:func:`rnn2snn.pipeline.run_pipeline`, locally in worker processes or on Ray
(``backend="ray"``, an optional extra). Each run uses one PyTorch thread, as
``reproduce`` does (:mod:`rnn2snn.threads`), so a point gives the same row on either
backend and the same figures as ``rnn2snn reproduce`` with its settings. Rows hold validation and test
accuracy per stage, hardware, power and conversion figures; choose designs by
the validation columns only (:func:`select_best`).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import typing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import fields, is_dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from rnn2snn.checks import (
    ParameterError,
    check_data,
    check_output_dir,
    check_pipeline_config,
    config_warnings,
)
from rnn2snn.config import PipelineConfig
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.network import SpikingConfig
from rnn2snn.targets import constraints_of

SPIKING_KEYS = {f.name for f in fields(SpikingConfig)}
# Scalar settings only: the nested ones (train, finetune, spiking, …) are reached by name below.
PIPELINE_KEYS = {f.name for f in fields(PipelineConfig)
                 if not is_dataclass(typing.get_type_hints(PipelineConfig)[f.name])}
TRAIN_KEYS = {"epochs", "lr", "finetune_epochs"}


def grid_types() -> dict[str, type | tuple]:
    """The value type of every grid parameter (a tuple ``(T, None)`` when it may be none)."""
    hints = {**typing.get_type_hints(SpikingConfig), **typing.get_type_hints(PipelineConfig),
             "epochs": int, "lr": float, "finetune_epochs": int}
    out = {}
    for key in sorted(SPIKING_KEYS | PIPELINE_KEYS | TRAIN_KEYS):
        hint = hints[key]
        args = typing.get_args(hint)
        out[key] = tuple(a for a in args) if args else hint
    return out


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["hidden_dim=16,32", "seed=0,1"]`` → ``{"hidden_dim": [16, 32], "seed": [0, 1]}``.

    Each value is read as its parameter's type; a value that is not refuses the grid
    entry, naming it and the type expected.
    """
    types = grid_types()
    grid: dict[str, list] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key or not values.strip():
            raise Rnn2SnnError(f"--grid {item!r}: expected NAME=V1,V2,... (e.g. hidden_dim=16,24)")
        if key not in types:
            raise Rnn2SnnError(f"--grid {item!r}: unknown parameter {key!r}; known parameters: "
                               f"{', '.join(types)}")
        if key in grid:
            raise Rnn2SnnError(f"--grid {item!r}: {key} is given twice; list all its values in one "
                               f"entry ({key}=V1,V2,...)")
        grid[key] = [_parse_value(item, key, v.strip(), types[key]) for v in values.split(",")]
        _check_distinct(key, grid[key], f"--grid {item!r}: ")
    return grid


def _check_distinct(key: str, values: list, where: str = "") -> None:
    """Refuse a value given twice (``16,16`` or ``0.5,0.50``): its point would run twice."""
    seen: list = []
    for v in values:
        if v in seen:
            raise Rnn2SnnError(f"{where}{key} value {v!r} is given twice; each value runs once, "
                               "so list it once")
        seen.append(v)


def _type_name(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join("none" if k is type(None) else _type_name(k) for k in kind)
    return {int: "a whole number", float: "a number", bool: "true or false", str: "a word"}.get(
        kind, getattr(kind, "__name__", str(kind)))


def _parse_value(item: str, key: str, text: str, kind):
    """``text`` as a value of ``kind`` (int, float, bool, str, or a tuple of them with None)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(None) in kinds and text.lower() in ("none", "null"):
        return None
    for k in kinds:
        if k is bool and text.lower() in ("true", "yes", "1", "false", "no", "0"):
            return text.lower() in ("true", "yes", "1")
        if k is int:
            try:
                return int(text)
            except ValueError:
                pass
        if k is float:
            try:
                value = float(text)
            except ValueError:
                continue
            if math.isfinite(value):
                return value
        if k is str and text:
            return text
    raise Rnn2SnnError(f"--grid {item!r}: {key} value {text!r} is not {_type_name(kind)}")


def point_config(base: PipelineConfig, point: dict) -> PipelineConfig:
    """``base`` with the point's values applied to the pipeline, training and spiking settings;
    checked (:func:`rnn2snn.checks.check_pipeline_config`)."""
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
    check_pipeline_config(cfg, limits=constraints_of(cfg))
    return cfg


def check_points(grid: dict[str, list], base: PipelineConfig, data=None) -> list[str]:
    """Check every grid point before any run starts; return the warnings (each once).

    A bad point is refused naming it: ``grid point {'hidden_dim': 0}: hidden_dim=0 …``.
    With ``data`` (train, test), the data checks run for each distinct split and vocabulary.
    """
    for key, values in grid.items():
        _check_distinct(key, list(values), "grid: ")
    warnings: list[str] = []
    seen = set()
    for point in expand(grid):
        try:
            cfg = point_config(base, point)
            found = config_warnings(cfg)
            key = (cfg.seed, cfg.val_fraction, cfg.min_count)
            if data is not None and key not in seen:
                seen.add(key)
                found += check_data(data[0], data[1], cfg)
        except ParameterError as exc:
            raise type(exc)(exc.parameter, f"grid point {point}: {exc}") from None
        warnings += [w for w in found if w not in warnings]
    return warnings


def expand(grid: dict[str, list]) -> list[dict]:
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def run_point(point: dict, base: PipelineConfig, data) -> dict:
    """One grid point → one row (runs in a worker, with the thread count ``reproduce`` uses)."""
    from rnn2snn.pipeline import run_pipeline
    from rnn2snn.threads import fixed_threads

    train_ex, test_ex = data
    cfg = point_config(base, point)
    with fixed_threads():
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
    if "teacher" in res:  # the float teacher of a distilled run, for the frontier's reference
        row.update(teacher_val=res["teacher"]["val_accuracy"], teacher_test=res["teacher"]["test_accuracy"])
    if "ensemble" in res:  # the first k members' spiking accuracy, k = 1 … K (K chosen on validation)
        ens = res["ensemble"]
        row.update({f"first_k_{split}": " ".join(f"{a:.4f}" for a in ens[f"first_k_spiking_{split}"])
                    for split in ("val", "test")})
    return row


def run_sweep(grid: dict[str, list], data, base: PipelineConfig = PipelineConfig(),
              backend: str = "local", workers: int | None = None, progress: bool = True,
              ray_address: str | None = None) -> list[dict]:
    """Rows for every grid point, in grid order, whatever the backend."""
    if backend not in ("local", "ray"):
        raise Rnn2SnnError(f"backend={backend!r}: choose 'local' or 'ray'")
    points = expand(grid)
    check_points(grid, base, data)  # refuse bad points before any work starts
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(points), desc=f"sweep ({backend})", disable=not progress)
    rows: list[dict | None] = [None] * len(points)
    if backend == "local":
        with local_pool(workers) as pool:
            futures = {pool.submit(run_point, p, base, data): i for i, p in enumerate(points)}
            for fut in as_completed(futures):
                rows[futures[fut]] = fut.result()
                bar.update()
    elif backend == "ray":
        try:
            import ray
        except ImportError:
            raise Rnn2SnnError("backend='ray' needs Ray: pip install -e '.[ray]'") from None
        started = not ray.is_initialized()
        if started:
            check_ray_address(ray_address)
            ray.init(address=ray_address, num_cpus=None if ray_address else workers,
                     include_dashboard=False, log_to_driver=False)
        # a local cluster's agents outlive a SIGKILLed parent (measured: ~90 MB each): a watchdog ends them
        watchdog = _start_ray_watchdog(ray) if started and not ray_address else None
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
            if watchdog is not None:
                watchdog.kill()
                watchdog.wait()
    bar.close()
    return rows  # type: ignore[return-value]


def _die_with_parent(parent: int) -> None:
    """Worker start-up: end with the process that started the sweep, even if it is killed
    (SIGKILL), instead of idling on with a PyTorch's memory. Linux: ``prctl(PR_SET_PDEATHSIG)``."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the call above took effect
        os._exit(1)


_RAY_WATCHDOG = """
import os, signal, sys, time
parent, roots = int(sys.argv[1]), {int(p) for p in sys.argv[2:]}
def table():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(d)] = (int(stat[1]), stat[19])  # parent pid, start time
    return out
seen = {}
while os.getppid() == parent:
    t = table()
    tree, todo = set(), [p for p in roots if p in t]
    while todo:
        p = todo.pop()
        tree.add(p)
        todo += [c for c, (pp, _) in t.items() if pp == p and c not in tree]
    seen.update({p: t[p][1] for p in tree})
    time.sleep(1)
time.sleep(2)  # the cluster's own clean-up first
t = table()
for p, start in seen.items():
    if p in t and t[p][1] == start:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
"""


def _start_ray_watchdog(ray):
    """A process, outside this one's process group, that ends the local Ray cluster's
    processes (and their children, e.g. its dashboard and runtime-env agents) if this
    process dies without ``ray.shutdown`` (SIGKILL). Linux only (reads ``/proc``)."""
    if not sys.platform.startswith("linux"):
        return None
    node = getattr(getattr(ray, "_private", None), "worker", None)
    node = getattr(node, "_global_node", None)
    pids = [str(p.process.pid) for procs in getattr(node, "all_processes", {}).values() for p in procs]
    if not pids:
        return None
    return subprocess.Popen([sys.executable, "-c", _RAY_WATCHDOG, str(os.getpid()), *pids],
                            start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def local_pool(workers: int) -> ProcessPoolExecutor:
    """The local backend's worker processes: spawned (a forked PyTorch can hang on its thread
    pool), and ending with this process (:func:`_die_with_parent`)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


#: Seconds a Ray address has to accept a connection before it is called unreachable.
RAY_CONNECT_TIMEOUT = 10.0
#: Seconds Ray's own health check has to confirm a cluster's GCS at the address: a running
#: head answers in about a second; what is not a Ray GCS would make ``ray.init`` wait for minutes.
RAY_HEALTH_TIMEOUT = 20.0


def check_ray_address(address: str | None, timeout: float = RAY_CONNECT_TIMEOUT,
                      health_timeout: float = RAY_HEALTH_TIMEOUT) -> None:
    """Refuse, naming it, a Ray address that is not a running cluster, before any run.

    First a TCP connection within ``timeout`` seconds; then, for a cluster address
    (HOST:PORT, the GCS), Ray's own ``ray health-check`` in a subprocess that is given
    ``health_timeout`` seconds, because a port that answers need not be Ray's and
    ``ray.init`` would then hang. ``ray://`` (Ray Client) addresses get the TCP check only.
    ``None``, ``auto`` and ``local`` are left to Ray.
    """
    if address is None or address in ("auto", "local"):
        return
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise Rnn2SnnError(f"ray_address={address!r}: expected HOST:PORT or ray://HOST:PORT "
                           "(e.g. 127.0.0.1:6379)")
    hint = (f"start the cluster there (ray start --head --port {port}) or leave ray_address out "
            "to start a local one")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else exc.strerror or exc
        raise Rnn2SnnError(f"ray_address={address!r}: nothing answers at {host}:{port} ({reason}); "
                           f"{hint}") from None
    if address.startswith("ray://") or importlib.util.find_spec("ray") is None:
        return  # Ray Client, or no Ray here (run_sweep names the install)
    try:
        done = subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "health-check",
                               "--address", f"{host}:{port}", "--skip-version-check"],
                              capture_output=True, timeout=health_timeout, check=False)
        healthy, reason = done.returncode == 0, f"ray health-check exit code {done.returncode}"
    except subprocess.TimeoutExpired:
        healthy, reason = False, f"no Ray answer within {health_timeout:g} s"
    if not healthy:
        raise Rnn2SnnError(f"ray_address={address!r}: something answers at {host}:{port}, but not "
                           f"a running Ray cluster ({reason}); {hint}")


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
        key = tuple((k, v) for k, v in r.items() if k not in RESULT_KEYS and k != "seed")
        groups.setdefault(key, []).append(r)
    if not groups:
        return None
    key, members = max(groups.items(), key=lambda kv: sum(m[score] for m in kv[1]) / len(kv[1]))
    return {**dict(key), score: sum(m[score] for m in members) / len(members), "runs": len(members)}


#: Columns of a sweep row that a run measured (the rest name the design it ran).
RESULT_KEYS = {"cores", "axons", "neurons", "power_uw", "power_uw_activity", "conversion_loss_points",
               "prediction_differs_share", "exact_count_share", "seconds", "teacher_val", "teacher_test",
               "first_k_val", "first_k_test"} | {
    f"{p}_{s}" for p in ("val", "test") for s in ("given", "float", "fan_in", "weights", "activities",
                                                  "spiking_before_finetune", "spiking")}


def write_sweep(rows: list[dict], out: str | os.PathLike, paper: tuple | None = None) -> dict:
    """``sweep.csv``, ``sweep.json`` and ``sweep.png`` (accuracy vs cores and vs power).

    ``paper``: the reference point drawn in the plot, only for TREC coarse labels
    (:data:`rnn2snn.report.plots.TREC_PAPER_POINT`); ``None`` draws none.

    The folder is written as a whole (:func:`rnn2snn.rundir.write_folder_atomic`): a
    previous sweep there is replaced, a folder holding anything else is refused.
    """
    from rnn2snn.report.plots import plot_sweep
    from rnn2snn.rundir import write_folder_atomic

    out = check_output_dir(out, "sweep")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    best = select_best(rows)

    def write(folder: Path) -> None:
        (folder / "sweep.csv").write_text(buf.getvalue(), encoding="utf-8")
        plot_sweep(rows, folder / "sweep.png", paper=paper,
                   front_cores=pareto_front(rows, "cores", "test_spiking"),
                   front_power=pareto_front(rows, "power_uw", "test_spiking"))
        # the marker of a finished sweep, written last
        (folder / "sweep.json").write_text(
            json.dumps({"rows": rows, "best_by_validation": best}, indent=2) + "\n", encoding="utf-8")

    write_folder_atomic(out, write)
    return {"best_by_validation": best}
