"""rnn2snn: trained recurrent networks to spiking networks for neuromorphic hardware.

``rnn2snn.convert_model`` (a user's own torch model) and ``rnn2snn.run_pipeline``
(the paper's network on labelled text) are imported on first use, so that
``import rnn2snn`` and the program's NumPy side never load torch.
"""

__version__ = "0.2.0"

_LAZY = {"convert_model": "rnn2snn.pipeline", "run_pipeline": "rnn2snn.pipeline",
         "PipelineConfig": "rnn2snn.pipeline", "load_program": "rnn2snn.program",
         "save_program": "rnn2snn.program", "predict_texts": "rnn2snn.predict",
         "get_target": "rnn2snn.targets"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rnn2snn' has no attribute {name!r}")
