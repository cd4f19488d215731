"""Power estimates for a network on TrueNorth, every constant with its source.

Two estimates:

* **core share** (the paper's method): ``cores / 4096 × chip power``. Diehl et al.
  (2016) report ~17 µW for one core, i.e. a chip power of ~70 mW, between the
  65 mW at 0.75 V of Akopyan et al. (2015) and the 72 mW at 0.775 V of Merolla
  et al. (2014), both for a typical 20 Hz workload.
* **activity based**: static power per core plus the energy of the synaptic
  events and spikes the network actually produces, at 1 ms per tick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnn2snn.targets.truenorth import limits as L


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str


CHIP_POWER = Constant(
    70e-3, "W",
    "Diehl et al. 2016 (~17 µW per core × 4096); cf. 65 mW @0.75 V (Akopyan et al. 2015) "
    "and 72 mW @0.775 V (Merolla et al. 2014), typical workload",
)
STATIC_POWER_PER_CORE = Constant(
    42e-3 / L.CORES_PER_CHIP, "W",
    "upper bound: 42 mW chip power with no activity at 0.70 V (Merolla et al. 2014) / 4096 cores",
)
ENERGY_PER_SYNAPTIC_EVENT = Constant(
    2.3e-12, "J",
    "marginal energy per synaptic event, fit of the 0.8 V sweep (secondary; Merolla et al. 2014 "
    "state 26 pJ per event counting total energy)",
)
ENERGY_PER_SPIKE_HOP = Constant(
    2.3e-12, "J", "energy per spike per mesh hop (Merolla et al. 2014)",
)
CONSTANTS = {
    "chip_power": CHIP_POWER,
    "static_power_per_core": STATIC_POWER_PER_CORE,
    "energy_per_synaptic_event": ENERGY_PER_SYNAPTIC_EVENT,
    "energy_per_spike_hop": ENERGY_PER_SPIKE_HOP,
}


def core_share_power_uw(cores: int) -> float:
    """The paper's estimate in µW: the chip's power times the share of cores used."""
    if cores < 0:
        raise ValueError(f"cores must be ≥ 0, got {cores}")
    return cores / L.CORES_PER_CHIP * CHIP_POWER.value * 1e6


@dataclass(frozen=True)
class ActivityPower:
    """Activity-based estimate; all powers in µW, rates per second at 1 ms ticks."""

    static_uw: float
    synaptic_uw: float
    spike_uw: float
    total_uw: float
    synaptic_events_per_second: float
    spikes_per_second: float

    def to_dict(self) -> dict:
        return asdict(self)


def activity_power_uw(cores: int, synaptic_events: float, spikes: float, ticks: float,
                      hops_per_spike: float = 1.0) -> ActivityPower:
    """Static power of ``cores`` plus the energy of the given activity over ``ticks`` ticks."""
    if ticks <= 0:
        raise ValueError(f"ticks must be > 0, got {ticks}")
    seconds = ticks * L.TICK_SECONDS
    ev_rate, sp_rate = synaptic_events / seconds, spikes / seconds
    static = cores * STATIC_POWER_PER_CORE.value * 1e6
    syn = ev_rate * ENERGY_PER_SYNAPTIC_EVENT.value * 1e6
    spk = sp_rate * hops_per_spike * ENERGY_PER_SPIKE_HOP.value * 1e6
    return ActivityPower(static, syn, spk, static + syn + spk, ev_rate, sp_rate)


def constants_table() -> list[dict]:
    """The constants as rows (name, value, unit, source) for reports."""
    return [{"name": k, "value": c.value, "unit": c.unit, "source": c.source}
            for k, c in CONSTANTS.items()]
