"""Save and load a trained, constrained model: safetensors weights, JSON config and vocabulary.

A model folder holds ``model.safetensors`` (tensors), ``vocab.json`` and
``config.json`` (sizes, constraints, spiking settings, classes, and the sha256 of
the two other files). Every file is written atomically and ``config.json`` last,
so a folder is either complete or refused on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnn2snn._atomic import write_atomic, write_json_atomic
from rnn2snn.constrain.integer import IntegerRNN
from rnn2snn.constrain.steps import to_integer
from rnn2snn.data.text import Vocabulary
from rnn2snn.errors import ModelFileError
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.spiking.network import SpikingConfig

FORMAT, VERSION = "rnn2snn-model", 1
WEIGHTS, VOCAB, CONFIG = "model.safetensors", "vocab.json", "config.json"


@dataclass
class SavedModel:
    """A loaded model: the classifier (constraints on), its vocabulary, classes, spiking settings."""

    model: ElmanClassifier
    vocab: Vocabulary
    classes: list[str]
    spiking: SpikingConfig

    def integer(self) -> IntegerRNN:
        return to_integer(self.model)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(directory: str | os.PathLike, model: ElmanClassifier, vocab: Vocabulary,
               classes: list[str], spiking: SpikingConfig) -> Path:
    """Write the model folder (see module docstring); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    k = model.constraints
    tensors = {name: t.detach().contiguous().clone() for name, t in model.state_dict().items()}
    if k.mask is not None:
        tensors["constraints.mask"] = k.mask.to(torch.uint8).contiguous()
    if k.threshold is not None and k.activity_levels is not None:
        net = to_integer(model)
        tensors["integer.w_in"] = torch.from_numpy(net.w_in.copy())
        tensors["integer.w_rec"] = torch.from_numpy(net.w_rec.copy())
    write_atomic(directory / WEIGHTS, lambda p: save_file(tensors, str(p)))
    write_json_atomic(directory / VOCAB, vocab.tokens)
    config = {
        "format": FORMAT,
        "version": VERSION,
        "elman": model.config.to_dict(),
        "constraints": {"threshold": k.threshold, "w_min": k.w_min, "w_max": k.w_max,
                        "activity_levels": k.activity_levels, "mask": k.mask is not None,
                        "groups": k.groups, "carry_residual": k.carry_residual},
        "spiking": spiking.to_dict(),
        "classes": list(classes),
        "sha256": {WEIGHTS: _sha256(directory / WEIGHTS), VOCAB: _sha256(directory / VOCAB)},
    }
    write_json_atomic(directory / CONFIG, config)
    return directory


def _read_json(path: Path):
    if not path.is_file():
        raise ModelFileError(f"{path}: missing (is {path.parent} a folder written by rnn2snn?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None


def _dataclass_from(cls, data: dict, where: str):
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ModelFileError(f"{where}: unknown fields {sorted(unknown)}")
    try:
        return cls(**data)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: {exc}") from None


def load_model(directory: str | os.PathLike) -> SavedModel:
    """Load and check a model folder; a corrupt or mismatched one raises :class:`ModelFileError`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"--model {directory}: no such folder")
    cfg_path = directory / CONFIG
    config = _read_json(cfg_path)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{cfg_path}: not an rnn2snn model configuration")
    if config.get("version") != VERSION:
        raise ModelFileError(
            f"{cfg_path}: format version {config.get('version')!r}, this rnn2snn reads {VERSION}"
        )
    for name in (WEIGHTS, VOCAB):
        path = directory / name
        if not path.is_file():
            raise ModelFileError(f"{path}: missing")
        expected = config.get("sha256", {}).get(name)
        if expected != _sha256(path):
            raise ModelFileError(
                f"{path}: content does not match the sha256 recorded in {CONFIG} "
                f"(file changed, truncated or from another model)"
            )
    try:
        elman = _dataclass_from(ElmanConfig, config["elman"], f"{cfg_path} 'elman'")
        spiking = _dataclass_from(SpikingConfig, config["spiking"], f"{cfg_path} 'spiking'")
        classes = list(config["classes"])
        cons = config["constraints"]
    except KeyError as exc:
        raise ModelFileError(f"{cfg_path}: missing field {exc}") from None
    tokens = _read_json(directory / VOCAB)
    try:
        vocab = Vocabulary(list(tokens))
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{directory / VOCAB}: {exc}") from None
    if len(vocab) != elman.vocab_size or len(classes) != elman.n_classes:
        raise ModelFileError(
            f"{cfg_path}: vocabulary {len(vocab)} / classes {len(classes)} disagree with the "
            f"network sizes {elman.vocab_size} / {elman.n_classes}"
        )
    try:
        tensors = load_file(str(directory / WEIGHTS))
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{directory / WEIGHTS}: unreadable ({exc})") from None
    model = ElmanClassifier(elman)
    state = {k: v for k, v in tensors.items() if not k.startswith(("constraints.", "integer."))}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelFileError(f"{directory / WEIGHTS}: does not fit {CONFIG}: {exc}") from None
    model.constraints.threshold = cons.get("threshold")
    model.constraints.w_min, model.constraints.w_max = cons.get("w_min", -8), cons.get("w_max", 7)
    model.constraints.activity_levels = cons.get("activity_levels")
    model.constraints.carry_residual = bool(cons.get("carry_residual", False))
    groups = cons.get("groups")
    if groups is not None:
        flat = sorted(j for g in groups for j in g)
        if flat != list(range(elman.hidden_dim)):
            raise ModelFileError(f"{cfg_path}: 'groups' do not place each recurrent neuron once")
        model.constraints.groups = [list(g) for g in groups]
    if cons.get("mask"):
        if "constraints.mask" not in tensors:
            raise ModelFileError(f"{directory / WEIGHTS}: the fan-in mask is missing")
        model.constraints.mask = tensors["constraints.mask"].bool()
    model.eval()
    if "integer.w_in" in tensors:
        net = to_integer(model)
        if not (np.array_equal(net.w_in, tensors["integer.w_in"].numpy())
                and np.array_equal(net.w_rec, tensors["integer.w_rec"].numpy())):
            raise ModelFileError(
                f"{directory / WEIGHTS}: the stored integer weights differ from those the "
                f"real weights and threshold give"
            )
    return SavedModel(model=model, vocab=vocab, classes=classes, spiking=spiking)
