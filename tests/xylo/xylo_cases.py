"""Random small Xylo specs and rasters for the tests here (hypothesis strategies, a seeded maker)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnn2snn.targets.xylo.spec import XyloSpec


def random_spec(rng: np.random.Generator, n_hidden: int = 12, n_outputs: int = 4, synapses: int = 2,
                chip: str = "xylo-audio2", shifts: tuple[int, int] = (0, 8),
                density: float = 0.5) -> XyloSpec:
    """A spec with every parameter drawn over a wide range (saturation and wrapping included)."""
    nh, no, s = n_hidden, n_outputs, synapses

    def w(shape):
        return rng.integers(-128, 128, shape) * (rng.random(shape) < density)

    return XyloSpec(weights_in=w((16, nh, s)), weights_rec=w((nh, nh, s)), weights_out=w((nh, no)),
                    dash_mem=rng.integers(0, 16, nh), dash_syn=rng.integers(0, 16, nh),
                    dash_syn_2=rng.integers(0, 16, nh), threshold=rng.integers(1, 4000, nh),
                    bias=rng.integers(-60, 60, nh), dash_mem_out=rng.integers(0, 16, no),
                    dash_syn_out=rng.integers(0, 16, no), threshold_out=rng.integers(1, 4000, no),
                    bias_out=rng.integers(-60, 60, no), weight_shift_in=int(rng.integers(*shifts)),
                    weight_shift_rec=int(rng.integers(*shifts)), weight_shift_out=int(rng.integers(*shifts)),
                    chip=chip)


@st.composite
def specs(draw, max_hidden: int = 5, max_outputs: int = 3):
    """Any spec xylosim accepts (weights int8, dashes and shifts 4 bits, thresholds and biases int16)."""
    nh = draw(st.integers(1, max_hidden))
    no = draw(st.integers(1, max_outputs))
    s = draw(st.integers(1, 2))
    w8 = st.integers(-128, 127)
    d4 = st.integers(0, 15)
    th = st.one_of(st.integers(1, 300), st.integers(-(2**15), 2**15 - 1))
    b16 = st.one_of(st.integers(-20, 20), st.integers(-(2**15), 2**15 - 1))

    def arr(shape, elements):
        return draw(hnp.arrays(np.int64, shape, elements=elements))

    return XyloSpec(weights_in=arr((16, nh, s), w8), weights_rec=arr((nh, nh, s), w8),
                    weights_out=arr((nh, no), w8),
                    dash_mem=arr(nh, d4), dash_syn=arr(nh, d4), dash_syn_2=arr(nh, d4), threshold=arr(nh, th),
                    bias=arr(nh, b16), dash_mem_out=arr(no, d4), dash_syn_out=arr(no, d4),
                    threshold_out=arr(no, th), bias_out=arr(no, b16), weight_shift_in=draw(d4),
                    weight_shift_rec=draw(d4), weight_shift_out=draw(d4))


def rasters(max_ticks: int = 8):
    """Input event counts (T, 16), 0..20 (above the chip's 15, which it drops)."""
    return st.integers(1, max_ticks).flatmap(
        lambda t: hnp.arrays(np.int64, (t, 16), elements=st.one_of(st.just(0), st.integers(0, 20))))
