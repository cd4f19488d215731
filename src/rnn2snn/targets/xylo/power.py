"""Energy per question on Xylo, from published figures only; every constant carries its source.

What is published, and what this module does with it:

* **Measured power** (Bos & Muir 2024, *Micro-power spoken keyword spotting on Xylo Audio 2*,
  arXiv 2406.15112): a keyword-spotting network on Xylo Audio 2 drew 291 µW of dynamic
  inference power and 6.6 µJ per inference. No per-spike or per-synaptic-event energy
  is published for Xylo, so rnn2snn's estimate applies that measured dynamic power to the
  time the chip runs a question: ``E = P_dyn × ticks × dt`` — an estimate that assumes our
  network draws what the measured one did, stated as such in the result.
* **Cycles per tick** (SynSense's own model, rockpool 3.1.0
  ``devices/xylo/syns61201/power_cycles_model.py`` and ``syns63300/power_cycles_model.py``,
  reimplemented here because those modules import samna): the master-clock cycles the
  core needs for one tick, from the network's sizes, its recurrent fan-out and how often
  inputs and neurons are active. With a 20 % margin (rockpool's ``est_clock_freq``) it gives
  the clock a tick period ``dt`` needs, checked against the 50 MHz main clock rockpool's
  ``XyloMonitor`` (syns61201/xylo_monitor.py) runs Xylo Audio 2 at by default.
* ``dt`` defaults to 1 ms, the default time step of rockpool's ``XyloSim``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.targets.xylo.simulate import XyloRecord
from rnn2snn.targets.xylo.spec import XyloSpec

#: Measured dynamic inference power, keyword spotting on Xylo Audio 2 (Bos & Muir 2024, arXiv 2406.15112).
DYNAMIC_POWER_W = 291e-6
#: Measured energy per inference of the same network (Bos & Muir 2024, arXiv 2406.15112).
KWS_ENERGY_PER_INFERENCE_J = 6.6e-6
#: Default main clock of Xylo Audio 2 in rockpool's XyloMonitor (rockpool 3.1.0, syns61201/xylo_monitor.py).
MAIN_CLOCK_HZ = 50e6
#: Default time step of rockpool's XyloSim (``dt=1e-3`` in ``from_specification``).
DEFAULT_DT_S = 1e-3
#: Safety margin of rockpool's ``est_clock_freq`` (power_cycles_model.py).
CLOCK_MARGIN = 0.2
# Cycle counts of SynSense's model (power_cycles_model.py, "cycle count magic numbers").
_INPUT_LOOP, _HIDDEN_UPDATE, _OUTPUT_ISYN_UPDATE = 3.5, 7, 8
_FIXED_HIDDEN, _FIXED_OUTPUT_SPIKE = 19, 12


@dataclass(frozen=True)
class XyloEnergy:
    """The energy estimate of one run (averaged over the questions given)."""

    ticks_per_question: float
    cycles_per_tick: float  # SynSense's cycle model, at the run's measured activity
    clock_needed_hz: float  # for real time at ``dt``, with rockpool's 20 % margin
    dt_s: float
    fits_main_clock: bool  # clock_needed_hz <= MAIN_CLOCK_HZ
    energy_per_question_uj: float  # DYNAMIC_POWER_W × ticks × dt
    published_kws_energy_uj: float = KWS_ENERGY_PER_INFERENCE_J * 1e6
    basis: str = ("measured dynamic power of a keyword-spotting network on Xylo Audio 2 (291 µW, Bos & "
                  "Muir 2024) × the time the chip runs a question; no per-event energy of Xylo is published")


def cycles_per_tick(spec: XyloSpec, input_active: float, hidden_active: float, output_active: float) -> float:
    """Master-clock cycles for one tick by SynSense's cycle model (rockpool's ``cycles_model``).

    ``*_active``: the fraction of (tick, channel or neuron) pairs with at least one event
    (several events in a tick cost what one does). Aliases are not used by rnn2snn (0).
    On Audio 2 every hidden neuron is an input and an output expansion neuron; on IMU
    only those with input (output) weights count, as the IMU model computes them.
    """
    n_in, n_hid, n_out = spec.n_inputs, spec.n_hidden, spec.n_outputs
    if spec.chip == "xylo-audio2":
        n_ien = n_oen = n_hid
    else:
        n_ien = int(np.count_nonzero(np.abs(spec.weights_in[:, :, 0]).sum(axis=0)))
        n_oen = int(np.count_nonzero(np.abs(spec.weights_out).sum(axis=1)))
    fanout = float(np.mean(np.count_nonzero(spec.weights_rec[:, :, 0], axis=1)))
    p_in, p_hid = input_active, hidden_active
    cycles = n_in * (p_in * n_ien * _INPUT_LOOP + 1)  # input spikes
    cycles += (fanout * _HIDDEN_UPDATE * p_hid + 3) * n_hid  # hidden Isyn
    cycles += p_hid * (1 + n_out * _OUTPUT_ISYN_UPDATE) * n_oen  # output Isyn
    cycles += (_FIXED_HIDDEN + 2 * p_hid + p_hid) * n_hid  # hidden spiking (no aliases)
    cycles += _FIXED_OUTPUT_SPIKE * n_out  # output spiking
    del output_active  # the model's output term does not depend on it ("0 * output_spk_prob")
    return float(cycles)


def estimate_energy(spec: XyloSpec, counts: np.ndarray, record: XyloRecord, lengths: np.ndarray | None = None,
                    dt_s: float = DEFAULT_DT_S) -> XyloEnergy:
    """The energy per question of a run of ``spec`` on ``counts`` (B, T, Nin), recorded in ``record``.

    ``record`` needs hidden spikes (``simulate(..., record=True)``). ``lengths`` (B,): the
    ticks each question really uses (the rest is padding); all T without it.
    """
    if record.spikes is None:
        raise ValueError("estimate_energy needs the hidden spikes: simulate(..., record=True)")
    n_batch, n_ticks, _ = record.out_spikes.shape
    lengths = np.full(n_batch, n_ticks) if lengths is None else np.asarray(lengths)
    mask = np.arange(n_ticks)[None, :] < lengths[:, None]
    used = mask.sum()

    def active(raster: np.ndarray) -> float:
        return float(np.count_nonzero((raster > 0) & mask[:, :, None]) / (used * raster.shape[2]))

    cycles = cycles_per_tick(spec, active(np.asarray(counts)), active(record.spikes),
                             active(record.out_spikes))
    clock = cycles * (1 + CLOCK_MARGIN) / dt_s
    ticks = float(lengths.mean())
    return XyloEnergy(ticks_per_question=ticks, cycles_per_tick=cycles, clock_needed_hz=clock, dt_s=dt_s,
                      fits_main_clock=clock <= MAIN_CLOCK_HZ,
                      energy_per_question_uj=DYNAMIC_POWER_W * ticks * dt_s * 1e6)
