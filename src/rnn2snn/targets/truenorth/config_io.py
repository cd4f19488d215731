"""Read and write a :class:`NetworkConfig` as versioned JSON (``rnn2snn export --format truenorth``).

Format ``rnn2snn-truenorth``, version 2::

    {"format": "rnn2snn-truenorth", "version": 1, "tick_seconds": 0.001,
     "cores": [{"index": 0,
                "axons": [{"type": 0..3}, ...],                 # ≤ 256
                "crossbar": ["0110…", ...],                     # one row per axon, one char per neuron
                "neurons": [{"weights": [S0, S1, S2, S3],       # −255…255
                             "threshold": α, "neg_threshold": β, "leak": λ,
                             "leak_reversal": 0|1, "reset_mode": 0|1|2, "reset_value": R,
                             "neg_saturate": 0|1, "threshold_mask": M, "stochastic_leak": 0|1,
                             "stochastic_synapse": [0|1]*4,
                             "target": {"core": c, "axon": a, "delay": 1…15} | null}, ...]}],
     "inputs": [{"core": c, "axon": a}, ...],    # input port k drives that axon
     "outputs": [{"core": c, "neuron": n}, ...], # output port k reads that neuron
     "ports": {"ticks_per_word": T, "flush_ticks": F, "input_schedule": s, "neg_input_schedule": s,
               "levels": 16, "n_inputs": S, "n_hidden": H,
               "input_port_source": [[unit, type], ...], "output_port_unit": [unit, ...],
               "neuron_unit": [[unit, ...] per core]} | null}
                                                  # how word-level data maps onto ports (not read
                                                  # by the core simulator)

Unknown keys are refused (a misspelt field would otherwise be ignored silently).

Loading checks every field against the hardware ranges and names the field
(``cores[0].neurons[3].target.delay``) and the limit when it refuses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rnn2snn._atomic import write_text_atomic
from rnn2snn.errors import ConfigFileError, HardwareLimitError
from rnn2snn.jsonread import JsonReader
from rnn2snn.program.neuron import NeuronParams
from rnn2snn.targets.truenorth import limits as L
from rnn2snn.targets.truenorth.config import NO_TARGET, CoreConfig, NetworkConfig, Port, PortMap

FORMAT, VERSION = "rnn2snn-truenorth", 2
NEURON_FIELDS = tuple(L.NEURON_FIELD_RANGES)


def config_to_dict(config: NetworkConfig) -> dict:
    cores = []
    for core in config.cores:
        neurons = []
        for j in range(core.n_neurons):
            tc = int(core.target_core[j])
            neuron = {"weights": [int(w) for w in core.type_weights[j]]}
            neuron.update({f: int(getattr(core.neurons, f)[j]) for f in NEURON_FIELDS})
            neuron["stochastic_synapse"] = [int(s) for s in core.stochastic_synapse[j]]
            neuron["target"] = None if tc == NO_TARGET else {
                "core": tc, "axon": int(core.target_axon[j]), "delay": int(core.target_delay[j])}
            neurons.append(neuron)
        cores.append({
            "index": core.index,
            "axons": [{"type": int(t)} for t in core.axon_types],
            "crossbar": ["".join("1" if b else "0" for b in row) for row in core.crossbar],
            "neurons": neurons,
        })
    return {
        "format": FORMAT, "version": VERSION, "tick_seconds": L.TICK_SECONDS,
        "cores": cores,
        "inputs": [{"core": p.core, "axon": p.index} for p in config.inputs],
        "outputs": [{"core": p.core, "neuron": p.index} for p in config.outputs],
        "ports": None if config.ports is None else config.ports.to_dict(),
    }


def save_config(config: NetworkConfig, path: str | os.PathLike) -> Path:
    """Write the configuration as JSON, atomically."""
    return write_text_atomic(path, json.dumps(config_to_dict(config), separators=(",", ":")) + "\n")


_PORT_INTS = ("ticks_per_word", "flush_ticks", "levels", "n_inputs", "n_hidden")


def _ports_from_dict(r: JsonReader, raw) -> PortMap | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        r.fail("ports", "expected an object or null")
    r.no_unknown(raw, "ports", set(_PORT_INTS) | {"input_schedule", "neg_input_schedule",
                                                     "input_port_source", "output_port_unit",
                                                     "neuron_unit"})
    values = {k: r.get(raw, k, "ports", int) for k in _PORT_INTS}
    for k in ("input_schedule", "neg_input_schedule"):
        values[k] = r.get(raw, k, "ports", str)
    src = r.get(raw, "input_port_source", "ports", list)
    pairs = []
    for k, pair in enumerate(src):
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)):
            r.fail(f"ports.input_port_source[{k}]", "expected [unit, type]")
        pairs.append(tuple(pair))
    outs = r.get(raw, "output_port_unit", "ports", list)
    units = r.get(raw, "neuron_unit", "ports", list)
    for name, seq in (("output_port_unit", outs), *((f"neuron_unit[{c}]", u) for c, u in enumerate(units))):
        if not isinstance(seq, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in seq):
            r.fail(f"ports.{name}", "expected a list of integers")
    try:
        return PortMap(**values, input_port_source=tuple(pairs), output_port_unit=tuple(outs),
                       neuron_unit=tuple(tuple(u) for u in units))
    except HardwareLimitError as exc:
        raise HardwareLimitError(f"{r.source}: {exc}") from None


def config_from_dict(data: dict, source: str = "<config>") -> NetworkConfig:
    """Build and validate a configuration from its JSON tree."""
    r = JsonReader(source, ConfigFileError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        r.fail("format", f"not an {FORMAT} file")
    if data.get("version") != VERSION:
        r.fail("version", f"{data.get('version')!r}, this rnn2snn reads version {VERSION}")
    r.no_unknown(data, "", {"format", "version", "tick_seconds", "cores", "inputs", "outputs", "ports"})
    raw_cores = r.get(data, "cores", "", list)
    n_cores = len(raw_cores)
    cores = []
    for c, rc in enumerate(raw_cores):
        path = f"cores[{c}]"
        if not isinstance(rc, dict):
            r.fail(path, "expected an object")
        r.no_unknown(rc, path, {"index", "axons", "crossbar", "neurons"})
        axons = r.get(rc, "axons", path, list)
        if len(axons) > L.AXONS_PER_CORE:
            raise HardwareLimitError(f"{source}: {path}.axons: {len(axons)} axons, over the limit "
                                     f"of {L.AXONS_PER_CORE} axons a core")
        types = [r.int_in(a, "type", f"{path}.axons[{i}]", 0, L.AXON_TYPES - 1)
                 for i, a in enumerate(axons)]
        neurons = r.get(rc, "neurons", path, list)
        if len(neurons) > L.NEURONS_PER_CORE:
            raise HardwareLimitError(f"{source}: {path}.neurons: {len(neurons)} neurons, over the "
                                     f"limit of {L.NEURONS_PER_CORE} neurons a core")
        rows = r.get(rc, "crossbar", path, list)
        if len(rows) != len(axons):
            r.fail(f"{path}.crossbar", f"{len(rows)} rows for {len(axons)} axons")
        crossbar = np.zeros((len(axons), len(neurons)), dtype=bool)
        for i, row in enumerate(rows):
            if not isinstance(row, str) or len(row) != len(neurons) or set(row) - {"0", "1"}:
                r.fail(f"{path}.crossbar[{i}]", f"expected a string of {len(neurons)} '0'/'1'")
            crossbar[i] = np.frombuffer(row.encode(), dtype=np.uint8) == ord("1")
        weights, fields = [], {f: [] for f in NEURON_FIELDS}
        stoch, targets = [], []
        limits = L.NEURON_FIELD_RANGES
        for j, rn in enumerate(neurons):
            npath = f"{path}.neurons[{j}]"
            if not isinstance(rn, dict):
                r.fail(npath, "expected an object")
            r.no_unknown(rn, npath, {"weights", "stochastic_synapse", "target", *NEURON_FIELDS})
            w = r.get(rn, "weights", npath, list)
            if len(w) != L.AXON_TYPES:
                r.fail(f"{npath}.weights", f"expected {L.AXON_TYPES} weights, one per axon type")
            weights.append([r.value_in(x, f"{npath}.weights[{g}]", L.WEIGHT_MIN, L.WEIGHT_MAX)
                            for g, x in enumerate(w)])
            for f in NEURON_FIELDS:
                fields[f].append(r.int_in(rn, f, npath, *limits[f]))
            s = r.get(rn, "stochastic_synapse", npath, list)
            if len(s) != L.AXON_TYPES or any(x not in (0, 1) or isinstance(x, bool) for x in s):
                r.fail(f"{npath}.stochastic_synapse", "expected four 0/1 values")
            stoch.append(s)
            if "target" not in rn:
                r.fail(f"{npath}.target", "missing (null for none)")
            t = rn["target"]
            if t is None:
                targets.append((NO_TARGET, 0, 0))
                continue
            tpath = f"{npath}.target"
            if not isinstance(t, dict):
                r.fail(tpath, "expected an object or null")
            r.no_unknown(t, tpath, {"core", "axon", "delay"})
            tc = r.get(t, "core", tpath, int)
            if not 0 <= tc < n_cores:
                r.fail(f"{tpath}.core", f"core {tc} does not exist ({n_cores} cores)")
            ta = r.int_in(t, "axon", tpath, 0, L.AXONS_PER_CORE - 1)
            td = r.int_in(t, "delay", tpath, L.DELAY_MIN, L.DELAY_MAX)
            targets.append((tc, ta, td))
        n = len(neurons)
        tg = np.array(targets, dtype=np.int64).reshape(n, 3)
        cores.append(CoreConfig(
            axon_types=np.array(types, dtype=np.int64),
            crossbar=crossbar,
            type_weights=np.array(weights, dtype=np.int64).reshape(n, L.AXON_TYPES),
            neurons=NeuronParams.make(n, where=f"{source}: {path}: ",
                                      **{f: np.array(v, dtype=np.int64) for f, v in fields.items()}),
            stochastic_synapse=np.array(stoch, dtype=np.int64).reshape(n, L.AXON_TYPES),
            target_core=tg[:, 0], target_axon=tg[:, 1], target_delay=tg[:, 2], index=c))
    inputs = [Port(r.get(p, "core", f"inputs[{k}]", int), r.get(p, "axon", f"inputs[{k}]", int))
              for k, p in enumerate(r.get(data, "inputs", "", list))]
    outputs = [Port(r.get(p, "core", f"outputs[{k}]", int), r.get(p, "neuron", f"outputs[{k}]", int))
               for k, p in enumerate(r.get(data, "outputs", "", list))]
    ports = _ports_from_dict(r, data.get("ports"))
    try:
        return NetworkConfig(cores=cores, inputs=inputs, outputs=outputs, ports=ports)
    except HardwareLimitError as exc:
        raise HardwareLimitError(f"{source}: {exc}") from None


def load_config(path: str | os.PathLike) -> NetworkConfig:
    """Read and validate a configuration file; refuses truncated, non-JSON or out-of-range files."""
    path = Path(path)
    if not path.is_file():
        raise ConfigFileError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: not valid JSON (truncated or not a configuration): {exc}") from None
    return config_from_dict(data, str(path))
