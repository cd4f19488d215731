"""Simulators written by others against rnn2snn's own: Norse on the NIR export (and SANA-FE).

    python benchmarks/crosscheck.py --model DIR --json OUT.json

Norse part (:func:`norse_crosscheck`): the converted network is exported with
:func:`rnn2snn.targets.nir.export.to_nir` (``exact=False``: the TrueNorth-exact program warns),
read back through ``nir.write``/``nir.read``, run by Norse 1.1.0 on every test question,
and compared with :func:`rnn2snn.program.network.simulate`: predictions, spike counts per
neuron × word window, spikes per neuron × tick. The differences are then traced to their
causes by simulating, with rnn2snn's own simulator, the program with each feature NIR
cannot carry removed in turn (linear reset → reset to 0; negative floor → none) and both
(the NIR-exact neurons, :func:`rnn2snn.targets.nir.export.with_nir_neurons`), which must equal
Norse spike for spike. Needs ``pip install -e '.[crosscheck]'``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _compare(ref_counts, counts, ref_pred, pred, lengths) -> dict:
    inside = np.arange(counts.shape[1])[None, :] < np.asarray(lengths)[:, None]  # (B, L)
    equal = ref_counts == counts
    return {
        "prediction_agreement": float((ref_pred == pred).mean()),
        "window_exact": float(equal[inside].mean()),  # neuron × word windows
        "word_exact": float(equal.all(axis=2)[inside].mean()),  # all neurons of a word window
    }


def _raster_exact(ref_raster, raster, lengths, ticks_per_word, flush_ticks) -> dict:
    from rnn2snn.clock import WordClock

    inside = WordClock(ticks_per_word, flush_ticks).inside(lengths, raster.shape[1])  # (B, ticks)
    diff = (ref_raster != raster) & inside[..., None]
    return {"neuron_ticks": int(inside.sum()) * raster.shape[2], "mismatches": int(diff.sum()),
            "spikes_ours": int((ref_raster & inside[..., None]).sum()),
            "spikes_norse": int((raster & inside[..., None]).sum())}


def _round_trip(graph):
    """The graph as another program reads it: written with nir.write, read with nir.read."""
    import nir

    buf = io.BytesIO()
    nir.write(buf, graph)
    buf.seek(0)
    return nir.read(buf)


def norse_crosscheck(snn, x, lengths, readout_fn, labels=None) -> dict:
    """Norse 1.1.0 on the NIR export of ``snn`` against rnn2snn's simulator.

    snn : SpikingRNN; x : int64 (B, L, P) input levels; lengths : (B,) windows to run;
    readout_fn : counts (B, L, H) → class scores (B, C), the off-chip readout;
    labels : (B,), optional, for accuracies.
    """
    from rnn2snn.program.network import simulate
    from rnn2snn.program.neuron import NeuronParams
    from rnn2snn.targets.nir.export import nir_differences, to_nir, with_nir_neurons
    from rnn2snn.targets.nir.norse import run_norse
    from rnn2snn.targets.truenorth import limits as L

    lengths = np.asarray(lengths, dtype=np.int64)
    cfg = snn.config
    changes = nir_differences(snn.neurons)

    def predict(counts):
        return np.asarray(readout_fn(counts)).argmax(1)

    start = time.perf_counter()
    ours = simulate(snn, x, lengths, record=True)
    ours_s = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the changes are reported below
        graph = _round_trip(to_nir(snn, exact=False))
    start = time.perf_counter()
    counts, raster = run_norse(graph, x, lengths, record=True)
    norse_s = time.perf_counter() - start
    ours_pred, norse_pred = predict(ours.counts), predict(counts)
    program = _compare(ours.counts, counts, ours_pred, norse_pred, lengths)
    out = {
        "questions": int(len(lengths)),
        "norse_prediction_agreement": program["prediction_agreement"],
        "norse_window_exact": program["window_exact"],
        "norse_word_exact": program["word_exact"],
        "norse_ticks": _raster_exact(ours.raster, raster, lengths, cfg.ticks_per_word,
                                     cfg.flush_ticks),
        "norse_program_exact": not changes,
        "norse_changes": changes,
        "norse_s": norse_s,
        "ours_s": ours_s,
    }

    # Causes: the program with each feature NIR cannot carry removed, in rnn2snn's simulator.
    p = snn.neurons
    fields = {f: getattr(p, f) for f in p.__dataclass_fields__}
    variants = {
        "reset_to_zero": NeuronParams.make(snn.n_hidden, **{**fields, "reset_mode": 0, "reset_value": 0}),
        "no_negative_floor": NeuronParams.make(snn.n_hidden,
                                               **{**fields, "neg_threshold": L.NEG_THRESHOLD_MAX,
                                                  "neg_saturate": 1}),
    }
    causes = {}
    for name, neurons in variants.items():
        rec = simulate(replace(snn, neurons=neurons), x, lengths)
        causes[name] = _compare(ours.counts, rec.counts, ours_pred, predict(rec.counts), lengths)
    exact_snn = with_nir_neurons(snn)
    exact = simulate(exact_snn, x, lengths, record=True)
    exact_pred = predict(exact.counts)
    causes["both (NIR-exact neurons)"] = _compare(ours.counts, exact.counts, ours_pred, exact_pred,
                                                  lengths)
    out["norse_difference_causes"] = causes
    # The same weights with NIR-exact neurons: Norse on its exact export, spike for spike.
    graph_exact = _round_trip(to_nir(exact_snn, exact=True))
    start = time.perf_counter()
    exact_counts, exact_raster = run_norse(graph_exact, x, lengths, record=True)
    nir_s = time.perf_counter() - start
    ticks = _raster_exact(exact.raster, exact_raster, lengths, cfg.ticks_per_word, cfg.flush_ticks)
    out["nir_neurons"] = {
        **_compare(exact.counts, exact_counts, exact_pred, predict(exact_counts), lengths),
        "ticks": ticks,
        "spike_for_spike": ticks["mismatches"] == 0 and bool(np.array_equal(exact.counts, exact_counts)),
        # Norse on the program's own export reads it with these neurons:
        "norse_on_program_export_equal": bool(np.array_equal(raster, exact_raster)),
        "norse_s": nir_s,
    }
    if labels is not None:
        labels = np.asarray(labels)
        out["accuracy"] = {"ours": float((ours_pred == labels).mean()),
                           "norse_on_export": float((norse_pred == labels).mean()),
                           "nir_neurons_ours": float((exact_pred == labels).mean())}
    return out


def load_case(model_dir, data_dir=None, limit=None):
    """(program, snn, source levels, run lengths, readout_fn, labels, word lengths) of a saved
    program on the TREC test questions (the packaged copy unless ``data_dir``)."""
    from rnn2snn.data import load_trec
    from rnn2snn.data.text import Vocabulary, encode
    from rnn2snn.data.trec import trec_label_set
    from rnn2snn.errors import Rnn2SnnError
    from rnn2snn.program import load_program

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise Rnn2SnnError(f"--limit {limit!r}: must be a whole number ≥ 1 (leave it out for all)")
    program = load_program(model_dir)
    if program.vocab is None:
        raise Rnn2SnnError(f"--model {model_dir}: this program reads real-valued features, not TREC "
                           "questions; cross-check it from Python with norse_crosscheck(snn, x, "
                           "lengths, readout_fn) on your feature arrays")
    labels = trec_label_set(program.classes)
    if labels is None:
        raise Rnn2SnnError(f"--model {model_dir}: its classes ({', '.join(program.classes[:8])}) are "
                           "not TREC's; this benchmark runs TREC's test questions")
    _, test = load_trec(data_dir, labels)
    if limit is not None:
        test = test.subset(range(min(limit, len(test.labels))))
    data = encode(test, Vocabulary(list(program.vocab)), list(program.classes))
    x = program.sources(program.encode(data.inputs), data.lengths)

    def readout(counts):
        return program.logits(counts, data.lengths)

    return (program, program.spiking_network(), x, program.run_lengths(data.lengths), readout,
            data.labels)


def sanafe_part(snn, x, run_lengths) -> dict:
    """SANA-FE 2.2.9 on the TrueNorth export of ``snn`` against rnn2snn's core simulator."""
    from rnn2snn.targets.truenorth.placement import encode_inputs, place
    from rnn2snn.targets.truenorth.sanafe import sanafe_crosscheck

    config = place(snn)
    return sanafe_crosscheck(config, encode_inputs(config, x, run_lengths), snn.config.clock.end(run_lengths))


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number ≥ 1 (``--limit 0`` once meant all, silently)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value} (leave --limit out for all)")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="program folder (e.g. runs/reproduce/model)")
    parser.add_argument("--data-dir", help="TREC folder (default: the copy inside the package)")
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--limit", type=_at_least_one, metavar="N",
                        help="first N test questions only, N ≥ 1 (default: all)")
    parser.add_argument("--skip", choices=("norse", "sanafe"), action="append", default=[],
                        help="leave one simulator out")
    args = parser.parse_args()

    from rnn2snn._atomic import check_target_file, write_json_atomic
    from rnn2snn.errors import Rnn2SnnError

    try:
        check_target_file(args.json)  # before the long work: a folder or a device is refused
        program, snn, x, run_lengths, readout, labels = load_case(args.model, args.data_dir, args.limit)
    except Rnn2SnnError as exc:
        parser.error(str(exc))
    out = {"model": str(args.model), "questions": int(len(labels)),
           "target": program.provenance.get("config", {}).get("target", "truenorth")}
    if "norse" not in args.skip:
        out.update(norse_crosscheck(snn, x, run_lengths, readout, labels))
        out["ours_network_s"] = out.pop("ours_s")
    if "sanafe" not in args.skip:
        out.update(sanafe_part(snn, x, run_lengths))
    write_json_atomic(args.json, out)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
