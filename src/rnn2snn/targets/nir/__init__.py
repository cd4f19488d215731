"""Other people's simulators: the converted network exported to NIR and run by Norse, and the
TrueNorth configuration run by SANA-FE.

Their packages are optional: ``nir``, ``nirtorch`` and ``sanafe`` come with
``pip install -e '.[crosscheck]'``, ``norse`` with ``pip install --no-deps norse==1.1.0``
(no extra: its torchvision requirement would replace the CPU torch); every module here
imports them inside its functions, so ``import rnn2snn`` never needs them.
"""

from rnn2snn.targets.nir.export import (
    NirExportWarning,
    nir_differences,
    nir_exact_neurons,
    to_nir,
    with_nir_neurons,
    write_nir,
)
from rnn2snn.targets.nir.norse import run_norse

__all__ = [
    "NirExportWarning",
    "nir_differences",
    "nir_exact_neurons",
    "run_norse",
    "to_nir",
    "with_nir_neurons",
    "write_nir",
]
