"""One PyTorch thread for everything that computes figures, so they do not depend on the machine.

Why: PyTorch splits sums over its intra-op threads, and float addition is not
associative, so the same seed trained with 1 or 2 threads gives different weights
(measured, paper preset, seed 0: spiking test accuracy 0.874 with 1 thread, 0.844
with 2; the float stage already differs, 0.864 against 0.836). Training always with
one thread makes ``reproduce`` give the same figures on any thread count, and the
same as a sweep row (each sweep run uses one thread). Cost, that run on a 2-core
machine: 29.7 s against 27.1 s wall on an idle machine, but 31.8 s against 37.8 s
with another job running, and about half the CPU time (29–32 s against 48–61 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: PyTorch intra-op threads while the pipeline runs.
PIPELINE_THREADS = 1


@contextmanager
def fixed_threads(n: int = PIPELINE_THREADS) -> Iterator[None]:
    """Run the block with ``n`` PyTorch intra-op threads, then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
