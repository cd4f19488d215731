"""What a program is run on, checked before it runs (NumPy only, no torch).

Why: :func:`~rnn2snn.program.simulate_program` and :func:`~rnn2snn.program.run_integer`
index arrays by the lengths and look token ids up in a table; a missing or wrong length,
a float id or a NaN feature would otherwise give a traceback from deep inside or a silently
wrong answer. :func:`check_run_inputs` refuses them naming the array and the row.
"""

from __future__ import annotations

import numpy as np

from rnn2snn.data.sequences import check_arrays, whole_numbers
from rnn2snn.errors import DataFormatError
from rnn2snn.program.spec import SpikingProgram, TokenEncoder


def check_run_inputs(program: SpikingProgram, inputs, lengths) -> tuple[np.ndarray, np.ndarray]:
    """``inputs`` and ``lengths`` (int64) as the program can run them; or a
    :class:`DataFormatError` naming the problem, the array and the row."""
    if lengths is None:
        raise DataFormatError("lengths: missing; give one length (the words or steps of each row, "
                              "1 … the padded length) for every row of inputs")
    try:
        x, n = np.asarray(inputs), np.asarray(lengths)
    except ValueError as exc:  # e.g. ragged lists
        raise DataFormatError(f"inputs: cannot be read as an array ({exc}); pad the rows to one "
                              "length with 0 and give the lengths") from None
    enc = program.encoder
    if isinstance(enc, TokenEncoder):
        if x.ndim != 2:
            raise DataFormatError(f"inputs: shape {x.shape}; this program reads token ids (N, L)")
        if x.size and (x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer)):
            raise DataFormatError(f"inputs: token ids must be integers, got {x.dtype}")
        if x.size and x.max() >= len(enc.vocab):
            row, pos = (int(i) for i in np.argwhere(x >= len(enc.vocab))[0])
            raise DataFormatError(f"inputs: row {row}, position {pos} holds token id {int(x[row, pos])}, "
                                  f"outside the program's vocabulary (ids 0…{len(enc.vocab) - 1})")
    else:
        if x.ndim != 3 or x.shape[2] != enc.n_features:
            raise DataFormatError(f"inputs: shape {x.shape}; this program reads features "
                                  f"(N, L, {enc.n_features})")
        if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.number):
            raise DataFormatError(f"inputs: features must be numbers, got {x.dtype}")
    if n.ndim == 0:
        raise DataFormatError(f"lengths: one number ({n!r}); give one length a row, shape ({len(x)},)")
    n = whole_numbers(n, "lengths", "lengths")
    check_arrays(x, n, None, "inputs")
    return x, n
