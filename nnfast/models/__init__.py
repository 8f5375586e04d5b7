"""Models: Model (functional graphs, model.py), Sequential (the chain case, sequential.py),
training (trainer.py), input checks (validation.py), batches of several inputs (batches.py), the
graph of layer calls (graph.py), the one-call native step (native_step.py), summary tables
(summary.py), configs and JSON (serialization.py), saving and loading (saving.py)."""
from .graph import Input
from .model import Model
from .saving import load_model, save_model
from .sequential import Sequential
from .serialization import model_from_config, model_from_json

__all__ = ["Model", "Sequential", "Input", "load_model", "save_model", "model_from_json", "model_from_config"]
