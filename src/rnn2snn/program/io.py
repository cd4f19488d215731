"""Save and load a :class:`~rnn2snn.program.spec.SpikingProgram`: one folder, written atomically.

Layout (format ``rnn2snn-program``, version 1)::

    program.json          format, version, encoder kind and vocabulary, per layer its
                          threshold, levels, carried remainder, bias flag and core groups,
                          timing, readout pooling, classes, provenance, and the sha256 of
    program.safetensors   the arrays: encoder.table (V, P) | encoder.weight (P, F) +
                          encoder.bias (P,); layers.I.w_in, layers.I.w_rec, layers.I.w_bias;
                          readout.weight (C, H), readout.bias (C,)

The folder is written beside its target and renamed into place, so a reader finds the
old program, the new one, or none — never half of one. Loading checks every field's
type and range and names the field (``program.json: layers[0].threshold: …``).
NumPy only (``safetensors.numpy``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from rnn2snn._atomic import file_mode
from rnn2snn.errors import ModelFileError, OutputFileError, Rnn2SnnError
from rnn2snn.jsonread import JsonReader
from rnn2snn.program.network import SpikingConfig
from rnn2snn.program.spec import FeatureEncoder, Readout, RecurrentLayer, SpikingProgram, TokenEncoder

FORMAT, VERSION = "rnn2snn-program", 1
JSON_FILE, ARRAYS_FILE = "program.json", "program.safetensors"


def program_to_files(program: SpikingProgram) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON tree and the arrays of a program."""
    arrays: dict[str, np.ndarray] = {}
    enc = program.encoder
    if isinstance(enc, TokenEncoder):
        encoder = {"kind": "tokens", "levels": enc.levels, "vocab": list(enc.vocab)}
        arrays["encoder.table"] = enc.table
    else:
        encoder = {"kind": "features", "levels": enc.levels}
        arrays["encoder.weight"], arrays["encoder.bias"] = enc.weight, enc.bias
    layers = []
    for i, layer in enumerate(program.layers):
        arrays[f"layers.{i}.w_in"], arrays[f"layers.{i}.w_rec"] = layer.w_in, layer.w_rec
        if layer.w_bias is not None:
            arrays[f"layers.{i}.w_bias"] = layer.w_bias
        alpha = layer.threshold
        layers.append({"threshold": int(alpha[0]) if (alpha == alpha[0]).all() else alpha.tolist(),
                       "levels": layer.levels,
                       "carry_residual": layer.carry_residual, "bias": layer.w_bias is not None,
                       "groups": None if layer.groups is None else [list(g) for g in layer.groups]})
    arrays["readout.weight"], arrays["readout.bias"] = program.readout.weight, program.readout.bias
    tree = {"format": FORMAT, "version": VERSION, "encoder": encoder, "layers": layers,
            "timing": program.timing.to_dict(), "readout": {"pooling": program.readout.pooling},
            "classes": list(program.classes), "provenance": program.provenance}
    return tree, {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def save_program(program: SpikingProgram, directory: str | os.PathLike) -> Path:
    """Write the program folder (module docstring) as a whole; return its path.

    An existing folder at ``directory`` is replaced only if it holds a program (or is empty).
    The files get the usual mode (``0o666`` less the umask, as any file the user writes),
    so another user can run ``predict`` on it; a place that cannot be written is refused
    before any file is (:func:`rnn2snn.rundir.write_folder_atomic`).
    """
    from rnn2snn.rundir import write_folder_atomic

    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise ModelFileError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / JSON_FILE).is_file():
        raise ModelFileError(f"{target}: a folder that holds something other than a program; "
                             "choose another place")
    tree, arrays = program_to_files(program)

    def write(folder: Path) -> None:
        try:
            save_file(arrays, str(folder / ARRAYS_FILE))
        except SafetensorError as exc:
            raise OutputFileError(f"{target / ARRAYS_FILE}: cannot write it: {exc}") from None
        os.chmod(folder / ARRAYS_FILE, file_mode())  # safetensors creates it 0600
        tree["sha256"] = {ARRAYS_FILE: hashlib.sha256((folder / ARRAYS_FILE).read_bytes()).hexdigest()}
        (folder / JSON_FILE).write_text(json.dumps(tree, indent=1) + "\n", encoding="utf-8")

    return write_folder_atomic(target, write)


def load_program(directory: str | os.PathLike) -> SpikingProgram:
    """Read and validate a program folder (see the module docstring)."""
    d = Path(directory)
    if not d.is_dir():
        raise ModelFileError(f"{d}: no such program folder")
    jpath, apath = d / JSON_FILE, d / ARRAYS_FILE
    if not jpath.is_file():
        old = (d / "config.json").is_file()
        hint = " (a model saved by rnn2snn < 0.2; re-run rnn2snn reproduce)" if old else ""
        raise ModelFileError(f"{d}: no {JSON_FILE}: not a program folder{hint}")
    t = JsonReader(str(jpath), ModelFileError)
    try:
        tree = json.loads(jpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{jpath}: not valid JSON: {exc}") from None
    except OSError as exc:
        raise ModelFileError(f"{jpath}: cannot read: {exc.strerror}") from None
    t.obj(tree, "program", {"format", "version", "encoder", "layers", "timing", "readout", "classes",
                            "provenance", "sha256"}, optional=frozenset({"provenance", "sha256"}))
    if tree["format"] != FORMAT:
        t.fail("format", f"{tree['format']!r}, expected {FORMAT!r}")
    t.typed(tree["version"], "version", int)  # `true == 1` in Python: refuse it by type first
    if tree["version"] != VERSION:
        t.fail("version", f"{tree['version']!r}; this rnn2snn reads version {VERSION}")
    if not apath.is_file():
        raise ModelFileError(f"{d}: {ARRAYS_FILE} is missing")
    try:
        digest = hashlib.sha256(apath.read_bytes()).hexdigest()
    except OSError as exc:  # e.g. another user's file that only its owner may read
        raise ModelFileError(f"{apath}: cannot read: {exc.strerror or exc}") from None
    want = (tree.get("sha256") or {}).get(ARRAYS_FILE)
    if want != digest:
        raise ModelFileError(f"{apath}: its sha256 does not match program.json (changed or corrupt)")
    try:
        arrays = load_file(str(apath))
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{apath}: cannot read: {exc}") from None

    def array(name: str) -> np.ndarray:
        if name not in arrays:
            raise ModelFileError(f"{apath}: array {name!r} is missing")
        return arrays[name]

    try:
        return _build(t, tree, array)
    except Rnn2SnnError as exc:
        msg = str(exc)
        if msg.startswith(str(jpath)) or msg.startswith(str(apath)):
            raise
        if msg.split(":", 1)[0] in arrays:  # a value of an array: name the file that holds it
            raise ModelFileError(f"{apath}: {msg}") from None
        raise ModelFileError(f"{jpath}: {msg}") from None


def _threshold(t: JsonReader, value, path: str):
    if isinstance(value, list):
        if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            t.fail(path, "expected an integer or a list of integers (one per neuron)")
        return np.array(value, dtype=np.int64)
    return t.typed(value, path, int)


def _build(t: JsonReader, tree: dict, array) -> SpikingProgram:
    enc = tree["encoder"]
    if not isinstance(enc, dict) or enc.get("kind") not in ("tokens", "features"):
        t.fail("encoder.kind", "expected 'tokens' or 'features'")
    if enc["kind"] == "tokens":
        t.obj(enc, "encoder", {"kind", "levels", "vocab"})
        vocab = t.typed(enc["vocab"], "encoder.vocab", list)
        if not all(isinstance(v, str) for v in vocab):
            t.fail("encoder.vocab", "expected a list of strings")
        encoder = TokenEncoder(array("encoder.table"), tuple(vocab),
                               t.typed(enc["levels"], "encoder.levels", int))
    else:
        t.obj(enc, "encoder", {"kind", "levels"})
        encoder = FeatureEncoder(array("encoder.weight"), array("encoder.bias"),
                                 t.typed(enc["levels"], "encoder.levels", int))
    raw_layers = t.typed(tree["layers"], "layers", list)
    layers = []
    for i, raw in enumerate(raw_layers):
        p = f"layers[{i}]"
        t.obj(raw, p, {"threshold", "levels", "carry_residual", "bias", "groups"})
        groups = t.typed(raw["groups"], f"{p}.groups", list, nullable=True)
        if groups is not None and not all(isinstance(g, list) and all(
                isinstance(j, int) and not isinstance(j, bool) for j in g) for g in groups):
            t.fail(f"{p}.groups", "expected lists of neuron indices")
        has_bias = t.typed(raw["bias"], f"{p}.bias", bool)
        try:
            layers.append(RecurrentLayer(
                w_in=array(f"layers.{i}.w_in"), w_rec=array(f"layers.{i}.w_rec"),
                threshold=_threshold(t, raw["threshold"], f"{p}.threshold"),
                levels=t.typed(raw["levels"], f"{p}.levels", int),
                carry_residual=t.typed(raw["carry_residual"], f"{p}.carry_residual", bool),
                w_bias=array(f"layers.{i}.w_bias") if has_bias else None,
                groups=None if groups is None else tuple(tuple(g) for g in groups)))
        except ModelFileError as exc:  # name the layer: its arrays as stored, its fields as in JSON
            msg = str(exc)
            if msg.startswith("layer.w_"):
                raise ModelFileError(f"layers.{i}.{msg[len('layer.'):]}") from None
            if msg.startswith("layer."):
                raise ModelFileError(f"{p}.{msg[len('layer.'):]}") from None
            raise
    timing_fields = {f.name: f for f in fields(SpikingConfig)}
    raw_t = t.obj(tree["timing"], "timing", set(timing_fields))
    values = {}
    for name, value in raw_t.items():
        kind = str if "schedule" in name else int
        values[name] = t.typed(value, f"timing.{name}", kind, nullable=name == "neg_threshold")
    readout = t.obj(tree["readout"], "readout", {"pooling"})
    classes = t.typed(tree["classes"], "classes", list)
    if not all(isinstance(c, str) for c in classes):
        t.fail("classes", "expected a list of class names (strings)")
    if len(set(classes)) != len(classes):
        t.fail("classes", "holds a class twice")
    provenance = tree.get("provenance", {})
    if not isinstance(provenance, dict):
        t.fail("provenance", "expected an object")
    return SpikingProgram(
        encoder=encoder, layers=tuple(layers), timing=SpikingConfig(**values),
        readout=Readout(t.typed(readout["pooling"], "readout.pooling", str),
                        array("readout.weight"), array("readout.bias")),
        classes=tuple(classes), provenance=provenance)
