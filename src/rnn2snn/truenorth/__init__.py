"""Stage 5 — TrueNorth: hardware limits, resource count, power, placement and core simulator."""
