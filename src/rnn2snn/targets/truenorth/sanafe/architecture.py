"""The SANA-FE architecture file (YAML) of a :class:`~rnn2snn.targets.truenorth.sanafe.plan.SanafePlan`."""

from __future__ import annotations

from rnn2snn.targets.truenorth.sanafe.plan import EVENT_ENERGY, SanafePlan


def _units(name: str, model: str, kind: str, energy: float = 0.0) -> str:
    if kind == "synapse":
        extra = f"energy_process_spike: {energy!r}, latency_process_spike: 0.0"
    elif kind == "dendrite":
        extra = "energy_update: 0.0, latency_update: 0.0"
    else:
        extra = ("energy_access_neuron: 0.0, latency_access_neuron: 0.0, energy_update_neuron: 0.0, "
                 "latency_update_neuron: 0.0, energy_spike_out: 0.0, latency_spike_out: 0.0")
    return f"            - name: {name}\n              attributes: {{model: {model}, {extra}}}\n"


def architecture_yaml(p: SanafePlan) -> str:
    """SANA-FE architecture for ``p``: one tile per core, units named as the plan uses them."""
    zero_hops = ", ".join(f"{e}_{d}_hop: 0.0" for d in ("north", "east", "south", "west")
                          for e in ("energy", "latency"))
    text = ["architecture:\n  name: rnn2snn_truenorth\n",
            f"  attributes: {{topology: mesh, width: {p.n_cores}, height: 1, link_buffer_size: 1, "
            f"sync_model: fixed, latency_sync: 0.0}}\n  tile:\n"]
    for c in range(p.n_cores):
        neurons = sum(g.size for g in p.groups.values() if g.core == c)
        text.append(f"    - name: tile{c}\n      attributes: {{{zero_hops}}}\n      core:\n"
                    f"        - name: core{c}\n          attributes: {{buffer_position: dendrite, "
                    f"buffer_inside_unit: true, max_neurons_supported: {max(neurons, 1)}}}\n"
                    f"          axon_in:\n            - name: axon_in\n              attributes: "
                    f"{{energy_message_in: 0.0, latency_message_in: 0.0}}\n          synapse:\n")
        text.append(_units("crossbar", "current_based", "synapse", EVENT_ENERGY))
        text.append(_units("relay_synapse", "current_based", "synapse"))
        text.append("          dendrite:\n")
        text.append(_units("tn_dendrite", "accumulator_with_delay", "dendrite"))
        text.append(_units("relay_dendrite", "accumulator_with_delay", "dendrite"))
        text.append(_units("input_dendrite", "accumulator", "dendrite"))
        text.append("          soma:\n")
        text.append(_units("tn_soma", "truenorth", "soma"))
        text.append(_units("relay_soma", "truenorth", "soma"))
        if p.ports_per_core[c]:
            text.append(_units(f"input[0..{p.ports_per_core[c] - 1}]", "input", "soma"))
        text.append("          axon_out:\n            - name: axon_out\n              attributes: "
                    "{energy_message_out: 0.0, latency_message_out: 0.0}\n")
    return "".join(text)


UNITS = {"tn": ("crossbar", "tn_dendrite", "tn_soma"),
          "relay": ("relay_synapse", "relay_dendrite", "relay_soma"),
          "input": ("relay_synapse", "input_dendrite", None)}
