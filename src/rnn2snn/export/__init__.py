"""Stage 6 — export: saved models (safetensors + JSON) and hardware configurations."""

from rnn2snn.export.model_io import SavedModel, load_model, save_model

__all__ = ["SavedModel", "load_model", "save_model"]
