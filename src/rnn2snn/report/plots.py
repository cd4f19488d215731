"""PNG plots of a run: accuracy by stage, and a spike raster of the recurrent layer."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from rnn2snn._atomic import write_atomic  # noqa: E402

PAPER_ACCURACY = 0.74  # Diehl et al. 2016, TREC coarse, on TrueNorth


def _save(fig, path: str | os.PathLike) -> Path:
    out = write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)
    return out


def plot_stage_accuracy(stages: list[dict], path: str | os.PathLike,
                        paper: float | None = None) -> Path:
    """Bar chart of test (and validation) accuracy per stage; with ``paper`` (TREC coarse
    labels only: :data:`PAPER_ACCURACY`) the paper's figure as a line.

    stages : dicts with ``name``, ``test_accuracy`` and optionally ``val_accuracy``
        and ``test_std`` (spread over seeds, drawn as error bars).
    """
    from rnn2snn.guard import STAGE_LABELS

    names = [STAGE_LABELS.get(s["name"], s["name"]).replace(" (", "\n(") for s in stages]
    test = np.array([s["test_accuracy"] for s in stages])
    xs = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 4))
    err = [s.get("test_std", 0.0) for s in stages]
    ax.bar(xs - 0.2, test, 0.4, yerr=err if any(err) else None, label="test", color="#3b6ea5",
           capsize=3)
    if all("val_accuracy" in s for s in stages):
        ax.bar(xs + 0.2, [s["val_accuracy"] for s in stages], 0.4, label="validation",
               color="#9bbbd9")
    if paper is not None:
        ax.axhline(paper, color="#c0392b", ls="--", lw=1.2,
                   label=f"Diehl et al. 2016 on TrueNorth ({paper:.0%})")
    for x, v in zip(xs, test, strict=False):
        ax.text(x - 0.2, v + 0.005, f"{v:.3f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, names)
    ax.set_ylim(min(0.5, float(test.min()) - 0.05), 1.0)
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy after each train-and-constrain stage")
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def plot_raster(raster: np.ndarray, ticks_per_word: int, words: list[str],
                path: str | os.PathLike, title: str = "") -> Path:
    """Spike raster (ticks × neurons, bool) with the word windows marked and labelled."""
    raster = np.asarray(raster, dtype=bool)
    n_ticks, n_neurons = raster.shape
    t, j = np.nonzero(raster)
    fig, ax = plt.subplots(figsize=(max(6, n_ticks / 25), 3.5))
    ax.scatter(t, j, marker="|", s=40, color="black", linewidths=1)
    for k, word in enumerate(words):
        x0 = k * ticks_per_word
        ax.axvline(x0 - 0.5, color="#bbbbbb", lw=0.6)
        ax.text(x0 + ticks_per_word / 2 - 0.5, n_neurons - 0.3, word, ha="center", va="bottom",
                fontsize=7, rotation=45)
    ax.set_xlim(-0.5, n_ticks - 0.5)
    ax.set_ylim(-0.7, n_neurons - 0.3)
    ax.set_xlabel("tick (1 ms)")
    ax.set_ylabel("recurrent neuron")
    if title:
        ax.set_title(title, pad=28, fontsize=9)
    return _save(fig, path)


def plot_count_mismatch(histogram: dict, path: str | os.PathLike) -> Path:
    """Histogram of spike count − integer activity over all neuron windows."""
    keys = sorted(int(k) for k in histogram)
    vals = [histogram[k] if k in histogram else histogram[str(k)] for k in keys]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(keys, vals, color="#3b6ea5")
    ax.set_yscale("log")
    ax.set_xlabel("spike count − integer activity (clipped at ±5)")
    ax.set_ylabel("neuron windows")
    ax.set_title("Conversion mismatch per word window")
    return _save(fig, path)


#: Diehl et al. 2016 on TrueNorth, TREC-6: (cores, µW, accuracy) — a point for TREC coarse labels only.
TREC_PAPER_POINT = (1, 17.09, 0.74)


def plot_sweep(rows: list[dict], path: str | os.PathLike, paper: tuple | None = None,
               front_cores=(), front_power=()) -> Path:
    """Spiking test accuracy against cores and against estimated power, Pareto fronts drawn.

    ``paper`` (TREC coarse labels only, :data:`TREC_PAPER_POINT`): the paper's point
    (cores, µW, accuracy) and Kim's float CNN figures on TREC as reference lines; other
    data are not compared with figures measured on TREC. The float teacher of distilled
    rows is drawn whatever the data."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    acc = np.array([r["test_spiking"] for r in rows])
    px_cores, px_power = (paper[0], paper[1]) if paper is not None else (None, None)
    for ax, key, front, px, label in ((axes[0], "cores", front_cores, px_cores, "cores"),
                                      (axes[1], "power_uw", front_power, px_power,
                                       "estimated power, core share (µW)")):
        xs = np.array([r[key] for r in rows], dtype=float)
        ax.scatter(xs, acc, color="#9bbbd9", label="designs", zorder=2)
        idx = sorted(front, key=lambda i: xs[i])
        if idx:
            ax.plot(xs[idx], acc[idx], "-o", color="#3b6ea5", label="Pareto front", zorder=3)
        if paper is not None:
            ax.scatter([px], [paper[2]], marker="*", s=160, color="#c0392b",
                       label="Diehl et al. 2016", zorder=4)
            for level, name, style in ((0.912, "Kim 2014 CNN, random vectors (float)", ":"),
                                       (0.936, "Kim 2014 CNN, word2vec (float)", "--")):
                ax.axhline(level, color="#7f7f7f", linestyle=style, linewidth=1, label=name, zorder=1)
        teachers = [r["teacher_test"] for r in rows if r.get("teacher_test") not in (None, "")]
        if teachers:
            ax.axhline(float(np.mean(teachers)), color="#2ca02c", linestyle="-.", linewidth=1,
                       label="this sweep's float teacher (mean)", zorder=1)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("spiking test accuracy")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Accuracy against hardware cost")
    return _save(fig, path)
