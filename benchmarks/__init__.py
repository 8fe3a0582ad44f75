"""``make bench`` (``python -m benchmarks``): how fast the hotline is, each figure as a ratio to a baseline
measured in the same run. Results are printed and written to ``benchmarks/results/<time>.json``."""
