"""The on-chip network as a NIR graph (Neuromorphic Intermediate Representation, ``nir`` 1.0.8).

The graph, in standard node types, one tick = one step of ``dt``::

    input ─► w_in ─► neurons ─► output
                       │  ▲
                       ▼  └── w_rec ◄── relay_d ◄ … ◄── relay_2 ◄── relay_1 ◄── neurons
                 delay_order (zeros) ──► relay_d, …, relay_2

* ``input``: ``Input`` (P,): the input spikes of one tick. The off-chip encoder turns a
  word's level ``c`` into ``c`` spikes in the word's window of T ticks, placed by the input
  schedule (:func:`rnn2snn.program.network.schedule_mask`). When the excitatory and the
  inhibitory axon types use different schedules the input is (2P,): the excitatory
  spikes, then the inhibitory ones (``metadata["input_layout"]``).
* ``w_in``, ``w_rec``: ``Linear`` with the integer weights ``Σ_g S_g·bits[g]`` (−8…7).
  With different delays for the excitatory and the inhibitory types, ``w_rec_exc`` and
  ``w_rec_inh`` tap the relay chain at their own depths.
* ``neurons``: ``IF`` (H,), ``r = 1``, ``v_threshold = α − ½``, ``v_reset = 0``.
* ``relay_k``: ``IF`` (H,), ``r = 1``, ``v_threshold = ½``: a spike in, a spike out.
* ``delay_order``: a ``Linear`` of zeros (H × H); it adds nothing, see *delay* below.

Where NIR, Norse 1.1.0 and the TrueNorth neuron (:mod:`rnn2snn.program.neuron`) differ —
each checked against their source (``nir/ir/neuron.py``, ``norse/torch/utils/import_nir.py``,
``norse/torch/functional/iaf.py``, ``nirtorch/graph_executor.py``):

* **time.** NIR is continuous-time: ``IF`` is ``v̇ = r·I``, spikes are impulses, edges are
  instantaneous. The export fixes one tick (1 ms on TrueNorth) as one step; Norse is run
  with ``from_nir(graph, dt=1.0)``. Its ``IF`` ignores ``dt`` and ``r`` and adds each
  step's input to ``v``, which is TrueNorth's integration (no leak).
* **threshold.** NIR and Norse spike when ``v > v_threshold``, TrueNorth when ``V ≥ α``.
  The membrane holds integers (integer weights, unit spikes, zero reset), so
  ``v_threshold = α − ½`` gives the same spikes under either comparison.
* **reset.** NIR's ``IF`` resets *to* ``v_reset``, and Norse 1.1.0 resets to 0 whatever
  ``v_reset`` says (it builds ``IAFParameters(v_th=…)`` only; 0 is also its initial
  potential). TrueNorth's converted neurons reset *linearly*, ``V ← V − α``, keeping the
  remainder for the next word; NIR has no subtractive reset. Carried exactly: reset mode
  0 with ``R = 0``.
* **negative floor.** TrueNorth saturates the membrane at ``−β`` (β = α in the converted
  networks) so one word's inhibition cannot silence the next; NIR's ``IF`` has no floor.
  Carried exactly: no floor, i.e. ``β`` at the hardware maximum 2¹⁸ − 1: the two agree
  while a membrane stays above −262,143; with ≤ 64 inputs of weight ≥ −8 a neuron loses at
  most 512 a tick, so reaching it takes over 512 ticks (34 words) of every input inhibiting
  at full weight, all the time, with no excitation.
* **delay.** rnn2snn's recurrent spikes arrive ``d`` ticks after they leave (d = T = 15).
  ``nir.Delay`` states that, but Norse 1.1.0 does not import it: the node maps to
  nothing and its edges are dropped, the recurrence vanishes, and the graph falls apart
  (tried: Norse logs "Multiple input nodes found" and feeds the input to ``w_rec``). Norse runs a
  graph with nirtorch 2.6's ``GraphExecutor``: once per step, every node in depth-first
  order from the ``Input``; an edge into a node computed earlier in the same step carries
  last step's value. So a plain ``IF ⇄ Linear`` cycle has a delay of one tick, and a
  chain of relays visited first-to-last adds none. ``delay_order`` (zero weights) makes
  the scheduler visit the relays last-to-first, so each relay hop crosses one step: a
  spike of ``neurons`` at tick t is ``relay_k``'s at tick t + k − 1, and ``w_rec`` feeds
  ``neurons`` at tick t + d — as in rnn2snn, with d relay stages (H·d relay neurons).
  The edge order in the file carries this schedule (nir.read keeps it). In NIR's
  continuous-time reading the relays fire at once; ``metadata["recurrent_delay_ticks"]``
  states the delay the graph means.
* **leak, stochastic threshold and leak, 20-bit membrane.** NIR's ``IF`` has no leak and
  is deterministic; the converted networks use neither. Norse's float32 membrane holds
  the integers exactly (|v| < 2²⁴).

:func:`to_nir` with ``exact=False`` exports any converted network and warns
(:class:`NirExportWarning`) naming each change above that applies; with ``exact=True`` it
refuses them (:class:`~rnn2snn.errors.Rnn2SnnError`). :func:`nir_exact_neurons` gives the
neurons whose meaning NIR and Norse carry exactly (reset to 0, no negative floor), so
rnn2snn's own simulator and Norse agree spike for spike.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import replace

import numpy as np

from rnn2snn._atomic import write_atomic
from rnn2snn.errors import ModelFileError, Rnn2SnnError
from rnn2snn.program import limits as L
from rnn2snn.program.network import TYPE_WEIGHTS, SpikingRNN
from rnn2snn.program.neuron import RESET_LINEAR, RESET_TO_VALUE, NeuronParams

INSTALL_HINT = "pip install -e '.[crosscheck]'"  # nir==1.0.8, nirtorch==2.6 (and sanafe)
#: Norse is no extra: its torchvision requirement would replace the pinned CPU torch, and it
#: imports and runs NIR graphs without it.
NORSE_INSTALL_HINT = f"{INSTALL_HINT} && pip install --no-deps norse==1.1.0"
FORMAT = "rnn2snn-nir"
FORMAT_VERSION = 1
RELAY_THRESHOLD = 0.5  # a relay fires on one unit spike and never on none


class NirExportWarning(UserWarning):
    """The exported graph means something other than the converted network (named in the text)."""


def import_nir():
    """The ``nir`` package, or an error saying how to install it."""
    try:
        import nir
    except ImportError as exc:
        raise Rnn2SnnError(f"the NIR export needs the 'nir' package: {INSTALL_HINT}") from exc
    return nir


def nir_exact_neurons(threshold, n: int) -> NeuronParams:
    """Neurons (n,) whose meaning NIR's ``IF`` and Norse carry exactly — those of
    ``PipelineConfig(target="nir")`` (one definition: this target's constraints,
    :data:`rnn2snn.targets.nir.limits.CONSTRAINTS`).

    TrueNorth reset mode 0 to ``R = 0`` (NIR resets to a value, Norse to 0), and no
    negative floor: ``β`` at the hardware maximum with saturation, which no converted
    network reaches (see the module docstring). ``threshold`` is α (scalar or (n,)); the
    export writes ``v_threshold = α − ½``, so ``V ≥ α`` and Norse's ``v > α − ½`` agree.
    """
    from rnn2snn.program.network import SpikingConfig
    from rnn2snn.targets.nir.limits import CONSTRAINTS

    cfg = CONSTRAINTS.timing(SpikingConfig())
    return NeuronParams.make(n, threshold=threshold, neg_threshold=cfg.neg_threshold,
                             reset_mode=cfg.reset_mode, reset_value=0, neg_saturate=cfg.neg_saturate,
                             where="nir_exact_neurons: ")


def with_nir_neurons(snn: SpikingRNN) -> SpikingRNN:
    """The same network (weights, timing) with :func:`nir_exact_neurons` of the same α."""
    return replace(snn, neurons=nir_exact_neurons(snn.neurons.threshold, snn.n_hidden))


def _values(a: np.ndarray) -> str:
    u = np.unique(a)
    return str(int(u[0])) if u.size == 1 else f"{int(u.min())}…{int(u.max())}"


def nir_differences(neurons: NeuronParams) -> list[str]:
    """What NIR's ``IF`` (as Norse 1.1.0 runs it) cannot carry of these neurons, one line each.

    Empty: the export is exact.
    """
    p = neurons
    out = []
    linear = p.reset_mode == RESET_LINEAR
    if linear.any():
        out.append(f"linear reset V ← V − α (TrueNorth reset mode 1, {int(linear.sum())} neurons) "
                   f"has no NIR equivalent: NIR's IF resets to v_reset, so the remainder above α "
                   f"is lost at every spike")
    none = p.reset_mode == 2
    if none.any():
        out.append(f"no reset (TrueNorth reset mode 2, {int(none.sum())} neurons) has no NIR "
                   f"equivalent: NIR's IF resets to v_reset = 0")
    to_r = (p.reset_mode == RESET_TO_VALUE) & (p.reset_value != 0)
    if to_r.any():
        out.append(f"reset to R={_values(p.reset_value[to_r])} ≠ 0: Norse 1.1.0 ignores IF.v_reset "
                   f"and resets to 0")
    floor = p.neg_threshold < L.NEG_THRESHOLD_MAX
    if floor.any():
        beta = _values(p.neg_threshold[floor])
        kind = ("saturating negative threshold" if (p.neg_saturate[floor] == 1).all()
                else "negative threshold with reset")
        out.append(f"negative floor −β=−{beta} ({kind}) has no NIR equivalent: the membrane "
                   f"goes below it")
    if p.leak.any():
        out.append(f"leak λ={_values(p.leak[p.leak != 0])} has no counterpart in NIR's IF: dropped")
    if p.stochastic_threshold:
        out.append("stochastic threshold (mask M ≠ 0) has no NIR equivalent: dropped")
    if p.stochastic_leak.any():
        out.append("stochastic leak has no NIR equivalent: dropped")
    return out


def _weights(snn: SpikingRNN) -> tuple[np.ndarray, np.ndarray]:
    """Integer weights of the excitatory types (0–2) and of the inhibitory type (3), (H, P+H)."""
    bits = np.asarray(snn.bits, dtype=np.int64)
    w_pos = np.tensordot(np.array(TYPE_WEIGHTS[:3]), bits[:3], axes=1)
    return w_pos, TYPE_WEIGHTS[3] * bits[3]


def to_nir(snn: SpikingRNN, exact: bool = False, metadata: dict | None = None):
    """The converted network as a ``nir.NIRGraph`` (layout and semantics: module docstring).

    exact : refuse, with :class:`~rnn2snn.errors.Rnn2SnnError` naming each feature, a
        network that NIR and Norse would read differently (the TrueNorth-exact conversion:
        linear reset, negative floor); otherwise export it and warn
        (:class:`NirExportWarning`) naming what changes.
    metadata : extra graph metadata (str, numbers or arrays), e.g. provenance.
    """
    nir = import_nir()
    if snn.bits.shape != (len(TYPE_WEIGHTS), snn.n_hidden, snn.n_inputs + snn.n_hidden):
        raise Rnn2SnnError(f"to_nir: crossbar bits have shape {snn.bits.shape}, expected "
                           f"(4, H, P + H) = (4, {snn.n_hidden}, {snn.n_inputs + snn.n_hidden})")
    changes = nir_differences(snn.neurons)
    if changes and exact:
        raise Rnn2SnnError("cannot export the network to NIR exactly: " + "; ".join(changes)
                           + " (convert with the NIR-exact neurons, `--target nir`, or export "
                           "with exact=False)")
    if changes:
        warnings.warn("the NIR graph differs from the converted network: " + "; ".join(changes),
                      NirExportWarning, stacklevel=2)
    cfg = snn.config
    h, n_in = snn.n_hidden, snn.n_inputs
    w_pos, w_neg = _weights(snn)
    split_input = cfg.input_schedule != cfg.neg_input_schedule
    if split_input:
        w_in = np.concatenate([w_pos[:, :n_in], w_neg[:, :n_in]], axis=1)
    else:
        w_in = w_pos[:, :n_in] + w_neg[:, :n_in]
    ones = np.ones(h, dtype=np.float32)
    p = snn.neurons
    v_reset = np.where(p.reset_mode == RESET_TO_VALUE, p.reset_value, 0).astype(np.float32)
    nodes = {
        "input": nir.Input(input_type=np.array([w_in.shape[1]])),
        "w_in": nir.Linear(weight=w_in.astype(np.float32)),
        "neurons": nir.IF(r=ones, v_threshold=p.threshold.astype(np.float32) - 0.5,
                          v_reset=v_reset),
    }
    edges = [("input", "w_in"), ("w_in", "neurons")]
    taps = {cfg.delay: w_pos[:, n_in:], cfg.neg_delay: w_neg[:, n_in:]}
    if cfg.delay == cfg.neg_delay:
        taps = {cfg.delay: w_pos[:, n_in:] + w_neg[:, n_in:]}
    depth = max(taps)
    relay = [f"relay_{k}" for k in range(1, depth + 1)]
    if depth >= 2:  # visit relay_d … relay_2 before relay_1: each hop then crosses one step
        nodes["delay_order"] = nir.Linear(weight=np.zeros((h, h), dtype=np.float32))
        edges.append(("neurons", "delay_order"))
        edges += [("delay_order", name) for name in reversed(relay[1:])]
    for name in relay:
        nodes[name] = nir.IF(r=ones, v_threshold=np.full(h, RELAY_THRESHOLD, dtype=np.float32),
                             v_reset=np.zeros(h, dtype=np.float32))
    edges.append(("neurons", relay[0]))
    edges += list(zip(relay[:-1], relay[1:], strict=True))
    for d, w in sorted(taps.items(), reverse=True):
        name = "w_rec" if len(taps) == 1 else ("w_rec_exc" if d == cfg.delay else "w_rec_inh")
        nodes[name] = nir.Linear(weight=w.astype(np.float32))
        edges += [(relay[d - 1], name), (name, "neurons")]
    nodes["output"] = nir.Output(output_type=np.array([h]))
    edges.append(("neurons", "output"))  # last: the executor returns the last node it runs
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tick_seconds": L.TICK_SECONDS,
        "ticks_per_word": cfg.ticks_per_word,
        "flush_ticks": cfg.flush_ticks,
        "input_schedule": cfg.input_schedule,
        "neg_input_schedule": cfg.neg_input_schedule,
        "input_layout": "excitatory,inhibitory" if split_input else "all",
        "n_inputs": n_in,
        "levels": snn.levels,
        "recurrent_delay_ticks": cfg.delay,
        "neg_recurrent_delay_ticks": cfg.neg_delay,
        "threshold_rule": "spike when v > v_threshold = alpha - 1/2 (integer v: v >= alpha)",
        "exact": not changes,
        "changes": "; ".join(changes),
    }
    meta.update(metadata or {})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(snn: SpikingRNN, path: str | os.PathLike, exact: bool = False,
              metadata: dict | None = None):
    """Write :func:`to_nir`'s graph to ``path`` (HDF5, ``nir.write``) atomically; returns the path."""
    nir = import_nir()
    graph = to_nir(snn, exact=exact, metadata=metadata)
    return write_atomic(path, lambda tmp: nir.write(tmp, graph))


def read_nir(path: str | os.PathLike):
    """The ``nir.NIRGraph`` in the file ``path`` (``nir.read``); a missing, truncated or foreign
    file is a :class:`~rnn2snn.errors.ModelFileError` naming it, not a raw ``OSError``."""
    nir = import_nir()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such NIR file")
    again = "export it again (rnn2snn export --format nir)"
    try:
        return nir.read(path)
    except OSError as exc:  # h5py: "Unable to … open file (truncated file: eof = …)"
        text = str(exc)
        reason = text[text.find("(") + 1:text.rfind(")")] if "(" in text else text
        sizes = re.search(r"\beof = (\d+).*stored_eof = (\d+)", reason)
        if "truncated" in reason and sizes:  # h5py's internals, in the file's terms
            reason = f"truncated: {int(sizes[1]):,} bytes of the {int(sizes[2]):,} it was written with"
        raise ModelFileError(f"{path}: not a readable NIR (HDF5) file: {reason}; {again}") from None
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ModelFileError(f"{path}: an HDF5 file but not a NIR graph ({type(exc).__name__}: {exc}); "
                             f"{again}") from None


def is_rnn2snn_nir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a NIR file written by :func:`write_nir` (its metadata's format)."""
    import_nir()  # h5py comes with it; without it, the error says what to install
    import h5py

    try:
        with h5py.File(path, "r") as f:
            value = f["node/metadata/format"][()]
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)) == FORMAT


def read_meta(graph) -> dict:
    """The graph's metadata with NumPy scalars and bytes turned into plain Python values."""
    out = {}
    for k, v in (getattr(graph, "metadata", None) or {}).items():
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out
