"""Benchmark machinery behind `python -m nnfast bench` and benchmarks/: timing, peer detection,
machine-limit probes and one module per section."""
