"""The TrueNorth target: the chip's sizes, resources, power, placement, core configuration and its
file, the core-level simulator, verify, and the SANA-FE cross-check."""
