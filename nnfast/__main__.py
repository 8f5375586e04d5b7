"""`python -m nnfast demo | info | bench | compare-optimizers`: the command line in nnfast.apps.cli."""
from nnfast.apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
