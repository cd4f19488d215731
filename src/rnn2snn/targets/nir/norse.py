"""Run a NIR graph in Norse (``norse.torch.from_nir``, norse 1.1.0) and read spike counts per word.

The graph is the one :func:`rnn2snn.targets.nir.export.to_nir` writes (or any graph with one
``Input`` of the same layout and one ``Output``); Norse knows nothing of words: this
module turns input levels into input spikes with the same schedule rnn2snn uses, steps
the imported module once per tick for all questions at once, and counts the output
spikes per word window (:class:`rnn2snn.clock.WordClock`).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from rnn2snn.clock import WordClock
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.network import spike_trains
from rnn2snn.targets.nir.export import NORSE_INSTALL_HINT, import_nir, read_meta, read_nir


def import_norse():
    """``norse.torch``, or an error saying how to install it."""
    try:
        import norse.torch as norse_torch
    except ImportError as exc:
        raise Rnn2SnnError(f"running a NIR graph in Norse needs 'norse': {NORSE_INSTALL_HINT}") from exc
    return norse_torch


def input_spikes(x: np.ndarray, lengths: np.ndarray, ticks_per_word: int, schedule: str,
                 neg_schedule: str | None = None, flush_ticks: int = 0) -> np.ndarray:
    """Input spikes (ticks, B, P) float32 — or (ticks, B, 2P) when ``neg_schedule`` differs
    from ``schedule`` (excitatory then inhibitory copies) — from levels x (B, L, P).

    Word k of question b fills ticks [k·T, (k+1)·T); words at or after ``lengths[b]`` and
    the flush ticks carry no input, as in :func:`rnn2snn.program.network.simulate`.
    """
    clock = WordClock(ticks_per_word, flush_ticks)
    lengths = np.asarray(lengths, dtype=np.int64)
    schedules = [schedule] if neg_schedule in (None, schedule) else [schedule, neg_schedule]
    parts = [spike_trains(x, lengths, clock, s) for s in schedules]  # each (B, ticks, P)
    return np.ascontiguousarray(np.concatenate(parts, axis=2).transpose(1, 0, 2), dtype=np.float32)


def _setting(value, meta: dict, key: str):
    if value is not None:
        return value
    if key not in meta:
        raise Rnn2SnnError(f"run_norse: pass {key}= (the graph's metadata has no {key!r})")
    return meta[key]


def run_norse(graph, x: np.ndarray, lengths: np.ndarray, ticks_per_word: int | None = None,
              schedule: str | None = None, neg_schedule: str | None = None,
              flush_ticks: int | None = None, record: bool = False):
    """Spike counts per word window (B, L, H) int64 of ``graph`` run by Norse 1.1.0.

    graph : a ``nir.NIRGraph`` or the path of a ``.nir`` file.
    x : int64 (B, L, P) input levels; lengths : (B,) words per question (run lengths).
    ticks_per_word, schedule, neg_schedule, flush_ticks : the timing of the input
        encoding; ``None`` takes them from the graph's metadata (written by ``to_nir``).
    record : also return the output raster, bool (B, ticks, H).

    All questions run as one batch; each tick is one call of the imported module
    (``from_nir(graph, dt=1.0)``), the output spikes are its return value.
    """
    import torch

    nir = import_nir()
    norse_torch = import_norse()
    if isinstance(graph, (str, os.PathLike)):
        graph = read_nir(graph)
    meta = read_meta(graph)
    T = int(_setting(ticks_per_word, meta, "ticks_per_word"))
    schedule = _setting(schedule, meta, "input_schedule")
    neg_schedule = neg_schedule if neg_schedule is not None else meta.get("neg_input_schedule", schedule)
    flush = int(flush_ticks if flush_ticks is not None else meta.get("flush_ticks", 0))
    x = np.asarray(x, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if x.ndim != 3 or lengths.shape != (x.shape[0],):
        raise Rnn2SnnError(f"run_norse: x must be (B, L, P) and lengths (B,), got {x.shape} "
                           f"and {lengths.shape}")
    top = int(meta.get("levels", T + 1)) - 1
    if x.size and (x.min() < 0 or x.max() > min(top, T)):
        raise Rnn2SnnError(f"run_norse: input levels must lie in 0…{min(top, T)}, got "
                           f"{int(x.min())}…{int(x.max())}")
    spikes = input_spikes(x, lengths, T, schedule, neg_schedule, flush)
    inputs = [n for n in graph.nodes.values() if isinstance(n, nir.Input)]
    if len(inputs) != 1:
        raise Rnn2SnnError(f"run_norse: the graph needs exactly one Input node, it has {len(inputs)}")
    width = int(np.prod(inputs[0].input_type["input"]))
    if width != spikes.shape[2]:
        raise Rnn2SnnError(f"run_norse: the graph's Input takes {width} units, the input levels "
                           f"give {spikes.shape[2]} spike trains (x has P={x.shape[2]}, schedules "
                           f"{schedule!r}/{neg_schedule!r})")
    with warnings.catch_warnings():
        # nirtorch 2.6 deprecates the loader Norse 1.1.0 calls; nothing to act on here.
        warnings.simplefilter("ignore", DeprecationWarning)
        module = norse_torch.from_nir(graph, dt=1.0)
    raster = None
    state = None
    with torch.no_grad():
        for t, frame in enumerate(torch.from_numpy(spikes)):
            out, state = module(frame, state)
            if raster is None:
                raster = np.zeros((len(spikes),) + tuple(out.shape), dtype=bool)
            raster[t] = out.numpy() > 0
    counts = WordClock(T, flush).counts(raster, lengths, tick_major=True)
    if record:
        return counts, raster.transpose(1, 0, 2)
    return counts
