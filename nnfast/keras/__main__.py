"""``python -m nnfast.keras SCRIPT.py [ARGS...]``: run a Keras program on nnfast (see runner)."""
import sys

from .runner import main

sys.exit(main())
