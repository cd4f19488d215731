"""A Xylo run end to end: the run's split and vocabulary, the Xylo chain, energy, xylosim.

Why beside :func:`rnn2snn.pipeline.run_pipeline`: the data side is the same (the same
stratified split, vocabulary and encoding from :func:`~rnn2snn.pipeline.data.prepare_data`,
so a TrueNorth run and a Xylo run with one seed see the same questions), but the
conversion is Xylo's own chain (:func:`rnn2snn.targets.xylo.method.convert_for_xylo`),
and what is measured after it is the chip's: the energy per question and, where xylosim
is installed, our simulator against xylosim on every test question.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from rnn2snn.config import PipelineConfig
from rnn2snn.data.text import Examples
from rnn2snn.pipeline.data import prepare_data
from rnn2snn.targets.xylo.convert import rasters
from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes
from rnn2snn.targets.xylo.method import XyloConversion, XyloSettings, convert_for_xylo, with_vectors
from rnn2snn.targets.xylo.model import XyloModel
from rnn2snn.targets.xylo.power import XyloEnergy, estimate_energy
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.xylosim_run import XylosimComparison, XylosimUnavailableError, compare_with_xylosim
from rnn2snn.threads import fixed_threads


@dataclass(frozen=True, eq=False)
class XyloRun:
    """What a Xylo run hands the report: the conversion, the program folder's content, the data
    sizes, the test set's chip figures, and the xylosim comparison (None: xylosim missing,
    ``xylosim_note`` says so)."""

    chip: str
    conversion: XyloConversion
    model: XyloModel
    split: dict
    energy: XyloEnergy
    activity: dict
    test_accuracy_rerun: float
    xylosim: XylosimComparison | None
    xylosim_note: str
    xylosim_seconds: float
    seed: int
    wall_seconds: float


def run_xylo(train_ex: Examples, test_ex: Examples, chip: str, settings: XyloSettings = XyloSettings(),
             config: PipelineConfig = PipelineConfig(), log=None, xylosim: bool = True) -> XyloRun:
    """Split, encode, convert for ``chip`` with ``settings``, and measure the test set on the chip.

    ``config`` gives the split and vocabulary (``seed``, ``val_fraction``, ``min_count``);
    ``log`` receives the chain's lines (None: silent). ``xylosim``: compare with xylosim
    (skipped, with a note, where it is not installed).
    """
    start = time.perf_counter()
    say = log or (lambda *a, **k: None)
    classes = sorted(set(train_ex.labels))
    check_run_sizes(chip, n_inputs=CHAIN_INPUTS, hidden=settings.hidden, n_classes=len(classes),
                    members=settings.members)
    # with word vectors (xylo-best), rare training words the vectors know are kept, as on TrueNorth
    vocab, classes, fit, val, test = prepare_data(train_ex, test_ex, replace(
        config, vectors=settings.vector_source, keep_vector_words=settings.vector_source is not None))
    settings = with_vectors(settings, vocab)
    say(f"{chip}: {len(fit)} fit, {len(val)} validation, {len(test)} test questions; vocabulary "
        f"{len(vocab)}; {settings.hidden} hidden neurons, {len(classes)} output neurons")
    with fixed_threads():
        torch.manual_seed(settings.seed)
        conversion = convert_for_xylo(fit, val, test, len(vocab), tuple(classes), chip, settings, log=log)
    spec = conversion.spec
    tail = settings.dynamics.tail_ticks
    counts, read = rasters(spec, test.tokens, test.lengths, tail)
    record = simulate(spec, counts, record=True)
    rerun = float((classify(record, spec.readout, read) == test.labels).mean())
    energy = estimate_energy(spec, counts, record, read)
    mask = np.arange(counts.shape[1])[None, :] < read[:, None]
    activity = {"hidden_spikes_per_question": float((record.spikes.astype(np.int64) * mask[:, :, None]).sum()
                                                    / len(counts)),
                "input_events_per_question": float((counts * mask[:, :, None]).sum() / len(counts)),
                "ticks_per_question": float(read.mean()),
                "saturated_states": {name: int(np.count_nonzero(
                    np.abs(getattr(record, name).astype(np.int64)) >= 32767))
                    for name in ("vmem", "isyn", "vmem_out", "isyn_out")}}
    comparison, note, seconds = None, "", 0.0
    if xylosim:
        t0 = time.perf_counter()
        try:
            comparison = compare_with_xylosim(spec, counts)
            note = f"{comparison.examples} test questions, every tick"
            say(f"xylosim: {comparison.total_mismatches} mismatches in {sum(comparison.compared.values())} "
                f"values ({comparison.examples} questions)")
        except XylosimUnavailableError as exc:
            note = f"not run: {exc}"
            say(f"xylosim: {note}")
        seconds = round(time.perf_counter() - t0, 1)
    else:
        note = "not run (switched off)"
    model = XyloModel(spec=spec, vocab=tuple(vocab.tokens), tail_ticks=tail)
    split = {"fit": len(fit), "val": len(val), "test": len(test), "vocabulary": len(vocab),
             "val_fraction": config.val_fraction, "min_count": config.min_count}
    return XyloRun(chip=chip, conversion=conversion, model=model, split=split, energy=energy,
                   activity=activity, test_accuracy_rerun=rerun, xylosim=comparison, xylosim_note=note,
                   xylosim_seconds=seconds,
                   seed=settings.seed, wall_seconds=time.perf_counter() - start)
