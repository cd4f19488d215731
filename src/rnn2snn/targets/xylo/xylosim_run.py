"""Run a Xylo spec in xylosim, SynSense's bit-accurate simulator, through rockpool's ``XyloSim``.

Why through rockpool: ``XyloSim.from_specification`` is how SynSense's own toolchain turns
a specification into a simulated chip, so running it checks our spec *and* our tick
(:mod:`rnn2snn.targets.xylo.neuron`) against code written by others.

Why the import is unusual: ``rockpool.devices.xylo``'s package ``__init__`` imports the
Audio 3 package, which imports ``samna`` unguarded, and samna cannot be installed from
the package index (only a stand-in that downloads it is published there). The simulator
modules themselves (``syns61201/xylo_sim.py``, ``syns63300/xylo_sim.py`` and their base
``syns61300/xylo_sim.py``) need only xylosim, so :func:`xylosim_class` loads them with
empty stand-ins for their parent packages in ``sys.modules``, removed again afterwards.
samna is never imported.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from dataclasses import dataclass
from functools import cache

import numpy as np

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.simulate import XyloRecord, check_counts, simulate
from rnn2snn.targets.xylo.spec import XyloSpec, xylosim_kwargs

INSTALL = 'pip install -e ".[xylo]"'
#: The rockpool package that simulates each chip.
PACKAGES = {"xylo-audio2": "syns61201", "xylo-imu": "syns63300"}


class XylosimUnavailableError(Rnn2SnnError, ImportError):
    """xylosim or rockpool is not installed (the message says how to install them)."""


@cache
def xylosim_class(chip: str = "xylo-audio2") -> type:
    """rockpool's ``XyloSim`` for ``chip``, imported without ``rockpool.devices.xylo``'s ``__init__``."""
    package = PACKAGES[get_chip(chip).name]
    try:
        import rockpool
        import xylosim.v2  # noqa: F401  (the compiled simulator; its absence is the usual failure)
    except ImportError as exc:
        raise XylosimUnavailableError(f"running xylosim needs rockpool 3.1.0 and xylosim 0.1.3 ({exc}); "
                                      f"install them with: {INSTALL}") from None
    root = os.path.join(os.path.dirname(rockpool.__file__), "devices", "xylo")
    parents = {"rockpool.devices.xylo": root}
    parents.update({f"rockpool.devices.xylo.{p}": os.path.join(root, p) for p in ("syns61300", package)})
    added = []
    for name, path in parents.items():
        if name not in sys.modules:
            stand_in = types.ModuleType(name)
            stand_in.__path__ = [path]
            sys.modules[name] = stand_in
            added.append(name)
    try:
        module = importlib.import_module(f"rockpool.devices.xylo.{package}.xylo_sim")
    except ImportError as exc:
        raise XylosimUnavailableError(f"rockpool's XyloSim for {chip} does not import ({exc}); install "
                                      f"rockpool 3.1.0 and xylosim 0.1.3 with: {INSTALL}") from None
    finally:
        for name in added:
            sys.modules.pop(name, None)
    return module.XyloSim


def xylosim_module(spec: XyloSpec):
    """A fresh ``XyloSim`` module for ``spec`` (on ``spec.chip``'s simulator)."""
    return xylosim_class(spec.chip).from_specification(**xylosim_kwargs(spec))


def run_xylosim(spec: XyloSpec, counts: np.ndarray, *, record: bool = True) -> XyloRecord:
    """Run ``spec`` in xylosim on each example of ``counts`` (B, T, Nin), from rest; xylosim's record.

    The same :class:`~rnn2snn.targets.xylo.simulate.XyloRecord` as our simulator returns,
    so the two compare array by array.
    """
    counts = check_counts(spec, counts)
    sim = xylosim_module(spec)
    keys = {"out_spikes": None, "vmem_out": "Vmem_out", "isyn_out": "Isyn_out"}
    if record:
        keys.update(spikes="Spikes", vmem="Vmem", isyn="Isyn", isyn2="Isyn2")
    runs: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    n_ticks = counts.shape[1]
    for example in counts:
        sim.reset_state()
        output, _, recording = sim(example, record=True)
        for key, name in keys.items():
            value = output if name is None else recording.get(name)
            if value is None:  # Xylo IMU's simulator records no Isyn2 (it has one synapse)
                value = np.zeros((n_ticks, spec.n_hidden))
            runs[key].append(np.asarray(value).reshape(n_ticks, -1))
    dtypes = {"out_spikes": np.uint8, "spikes": np.uint8}
    return XyloRecord(**{key: np.stack(values).astype(dtypes.get(key, np.int16))
                         for key, values in runs.items()})


#: The recorded arrays compared, as named in :class:`~rnn2snn.targets.xylo.simulate.XyloRecord`.
COMPARED = ("spikes", "vmem", "isyn", "isyn2", "out_spikes", "vmem_out", "isyn_out")


@dataclass(frozen=True)
class XylosimComparison:
    """Our simulator against xylosim on the same inputs: per recorded array, the values compared
    and how many differ (every tick, every neuron, every example)."""

    examples: int
    ticks: int
    compared: dict[str, int]
    mismatches: dict[str, int]

    @property
    def total_mismatches(self) -> int:
        return sum(self.mismatches.values())


def compare_with_xylosim(spec: XyloSpec, counts: np.ndarray, batch_size: int = 64) -> XylosimComparison:
    """Run ``spec`` on ``counts`` (B, T, Nin) in our simulator and in xylosim and count the differences.

    ``batch_size`` examples at a time, so the recordings of a whole test set need not be
    held at once.
    """
    counts = check_counts(spec, counts)
    compared = dict.fromkeys(COMPARED, 0)
    mismatches = dict.fromkeys(COMPARED, 0)
    for start in range(0, len(counts), batch_size):
        part = counts[start: start + batch_size]
        ours, theirs = simulate(spec, part), run_xylosim(spec, part)
        for key in COMPARED:
            compared[key] += getattr(ours, key).size
            mismatches[key] += int(np.count_nonzero(getattr(ours, key) != getattr(theirs, key)))
    return XylosimComparison(examples=len(counts), ticks=counts.shape[1], compared=compared,
                             mismatches=mismatches)
