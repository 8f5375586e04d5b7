"""Models: Sequential (structure in sequential.py, training in trainer.py, input checks in
validation.py, the one-call native step in native_step.py) and saving/loading (saving.py)."""
from .saving import load_model, save_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model", "save_model"]
