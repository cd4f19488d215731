"""Run a TrueNorth configuration in SANA-FE and compare it, tick by tick, with our simulator:
the translation (:mod:`.plan`), the architecture file (:mod:`.architecture`) and the run
(:mod:`.run`).

SANA-FE (Boyle et al., IEEE TCAD 2025; https://github.com/SLAM-Lab/SANA-FE, tested with
the 2.2.9 wheel) is a neuromorphic simulator written by others, with a ``truenorth``
soma model. A :class:`~rnn2snn.targets.truenorth.config.NetworkConfig` agreeing with it spike
for spike is evidence, from outside this project, that the exported configuration
means what :func:`rnn2snn.targets.truenorth.simulator.run_cores` says it means.

How the configuration is translated, and why each piece is needed:

* **Neurons.** Every TrueNorth neuron is a SANA-FE neuron on a ``truenorth`` soma unit:
  threshold α; reset mode γ = 0/1/2 → ``hard`` (to R) / ``soft`` (V − α) / ``none``;
  a saturating negative threshold (κ = 1) → ``reverse_threshold = −β`` with
  ``reverse_reset_mode: saturate`` (SANA-FE tests ``V ≤ −β`` and sets ``V ← −β``, which
  is ``max(V, −β)``); κ = 0 → ``reverse_threshold = −β − 1`` (our test is ``V < −β``)
  with a ``hard`` reset to −R or ``none``. SANA-FE applies its leak before integrating,
  so a leak λ without reversal becomes its ``bias`` (added in the same tick, so the sum
  is the same); with leak reversal the sign would be taken before the input instead of
  after it, so that is refused.
* **Axons and the crossbar.** SANA-FE connects neurons to neurons, so axon ``a`` of
  core ``c`` becomes one connection from its source to each neuron ``j`` with
  ``crossbar[a, j] = 1``, weight ``S_j^{G_a}`` (weight 0 kept: it is still a synaptic
  event). A TrueNorth axon holds one bit per tick — spikes reaching it in the same tick
  merge — so an axon fed by several sources gets an *OR relay* (threshold 1, reset to
  0) that fires once however many arrive.
* **Delays.** SANA-FE integrates a spike one step after it is sent, plus the dendrite
  delay ``d`` of the connection (``accumulator_with_delay``, d ≤ 5): one hop is
  ``1 + d`` ticks, at most 6. A delay D > 6 runs through relay neurons (threshold 1,
  weight 1, reset to 0) on the sender's core: D = 15 is 6 + 6 + 3. Each dendrite unit
  is fed by exactly one synapse unit, because the delays are stored by the synapse
  unit's connection address and two units would overwrite each other's.
* **Buffer inside the dendrite.** With SANA-FE's usual ``buffer_position: soma`` a
  delayed charge reaches the soma only when another spike arrives for that neuron;
  keeping the buffer inside the dendrite updates every dendrite every step.
* **Input ports.** Each port is a neuron on its own ``input`` soma unit (the unit holds
  one spike train), on the core of the axon it drives.
* **Time.** TrueNorth tick ``t`` is SANA-FE step ``t + K`` (steps count from 1):
  K = 2, or 3 when a port drives a shared axon (its spike must pass an OR relay). The
  first K − 1 steps only carry the inputs in, so a leak (``bias``) is switched on at
  step K, not before.
* **Energy.** Only crossbar synapses cost energy, 2.3 pJ each
  (:data:`rnn2snn.targets.truenorth.power.ENERGY_PER_SYNAPTIC_EVENT`); relays and input neurons
  are artefacts of the translation and cost nothing. SANA-FE's synapse energy divided by
  2.3 pJ is therefore *its* count of crossbar synaptic events. SANA-FE counts an event
  when the spike is sent to the synapse, TrueNorth when it is delivered, so events still
  in flight when a run ends are in SANA-FE's count only (:func:`sanafe_crosscheck`
  computes them).

Refused (:class:`~rnn2snn.errors.HardwareLimitError`, naming core and neuron):
stochastic synapses, leaks and thresholds (SANA-FE draws from C ``rand()``, not our
seeded generator); leak reversal with a non-zero leak; linear reset (γ = 1) with a
non-saturating negative threshold (SANA-FE's soft reverse reset adds its negative
threshold, V − β − 1, where TrueNorth adds β); a delay of 1 on an axon several sources
share; and any run in which the membrane could leave the 20-bit range (TrueNorth
saturates there, SANA-FE keeps a double) — checked by a bound computed from the
weights before anything runs.

Questions run one after another on one chip (:func:`sanafe_run`): each gets its own
spike trains, ``chip.reset()`` clears membranes and dendrite buffers between them.
"""

from rnn2snn.targets.truenorth.sanafe.architecture import architecture_yaml
from rnn2snn.targets.truenorth.sanafe.plan import (
    INSTALL_HINT,
    SanafeInputError,
    SanafePlan,
    SanafeUnavailableError,
    check_potential_range,
    plan,
    potential_bounds,
)
from rnn2snn.targets.truenorth.sanafe.run import SanafeRun, events_in_flight, sanafe_crosscheck, sanafe_run

__all__ = ["INSTALL_HINT", "SanafeInputError", "SanafePlan", "SanafeRun", "SanafeUnavailableError",
           "architecture_yaml", "check_potential_range", "events_in_flight", "plan", "potential_bounds",
           "sanafe_crosscheck", "sanafe_run"]
