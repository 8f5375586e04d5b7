"""Side-by-side benchmark report: the same as `python -m nnfast bench` (see --help)."""
import sys

from nnfast.apps.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
