"""`python -m nnfast demo | info | bench | compare-optimizers` (see nnfast.apps.cli)."""
import sys

from nnfast.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
