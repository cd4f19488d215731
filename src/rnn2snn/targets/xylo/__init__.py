"""SynSense Xylo as a target: chip limits, the specification, the tick, its simulators, power.

Why a package of its own: Xylo's neuron (a synaptic filter, a bit-shift leak, a ``>=``
threshold with subtractive reset, 16-bit saturating states) is not TrueNorth's, and the
readout is on the chip (output neurons). Everything here is NumPy; xylosim and rockpool are
imported only by :mod:`rnn2snn.targets.xylo.xylosim_run`, and samna never.
"""
