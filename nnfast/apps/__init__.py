"""The applications built on the library, behind `python -m nnfast`: the demo, the optimizer
comparison, the benchmark report (bench/) and their command line (cli)."""
