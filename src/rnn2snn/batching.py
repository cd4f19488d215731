"""Examples in fixed-size batches, so that memory stays flat in the data size.

Every simulator and network run is per example (no state is shared between the rows of a
batch), so running the rows in batches and joining the results gives exactly what one run
over all rows gives; the tests (tests/test_batching.py) check it bit for bit. This is the
one loop that does it.

The batches run with one BLAS thread: a simulator makes a few small matrix products a
tick, and OpenBLAS's threads then cost more than they bring, several times over on a
busy machine (the core-level simulator, batches of 256 on the shared 2-core machine).
The products are of small integers held in float32, exact whatever the thread count,
so the results do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

BATCH_SIZE = 256
"""Examples a simulator holds at once: its tick-by-tick state grows with the batch, not the data."""

R = TypeVar("R")


def map_batches(run: Callable[[slice], R], n: int, batch_size: int = BATCH_SIZE) -> list[R]:
    """``run(rows)`` for consecutive slices of ``0…n`` of at most ``batch_size`` rows, in order.

    ``run`` is called at least once (on the empty slice when ``n == 0``), so that results keep
    their shapes for empty data.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer ≥ 1, got {batch_size!r}")
    with one_blas_thread():
        return [run(slice(s, min(s + batch_size, n))) for s in range(0, max(n, 1), batch_size)]


def one_blas_thread():
    """A context with numpy's BLAS on one thread (module docstring)."""
    return threadpool_limits(limits=1, user_api="blas")


def concat(parts: list[np.ndarray | None]) -> np.ndarray | None:
    """The batches' arrays joined along the first axis (None when the batches have none)."""
    if any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
