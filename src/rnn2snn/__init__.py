"""rnn2snn: trained recurrent networks to spiking networks for TrueNorth-class hardware."""

__version__ = "0.1.0"
