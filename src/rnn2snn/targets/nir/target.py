"""NIR as a :class:`~rnn2snn.targets.base.Target`: the program's network as a NIR graph
(export), run by Norse (run). The constraints are TrueNorth's with the NIR importers'
neuron (reset to zero, no negative floor), so a graph converted for it runs exactly."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from rnn2snn.program.spec import SpikingProgram
from rnn2snn.targets.base import Exported, Target
from rnn2snn.targets.nir.export import write_nir
from rnn2snn.targets.nir.limits import CONSTRAINTS
from rnn2snn.targets.nir.norse import run_norse


def export(program: SpikingProgram, path: Path, exact: bool = False, origin: str = "") -> Exported:
    """Write the program's recurrent network as a NIR graph; the encoder and readout stay
    off-chip (named in the metadata). Not exact: the warnings say what changes."""
    meta = {"classes": ",".join(program.classes), "layers": len(program.layers),
            "lag_windows": program.lag, "pooling": program.readout.pooling,
            "off_chip": f"encoder and readout: {origin}/program.safetensors"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = write_nir(program.spiking_network(), path, exact=exact, metadata=meta)
    notes = tuple(str(w.message) for w in caught)
    return Exported(Path(out), f"NIR graph of {program.n_hidden} neurons"
                               + (" (not exact: see the warning)" if notes else " (exact)"), notes)


def run(path: Path, sources: np.ndarray, run_lengths: np.ndarray) -> np.ndarray:
    """Spike counts per window (N, L, H) of a NIR file run by Norse."""
    return run_norse(path, sources, run_lengths)


TARGET = Target(name="nir", constraints=CONSTRAINTS, file_name="program.nir", export=export, run=run)
