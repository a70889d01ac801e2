"""simio engine: read -> clean -> fit -> sample -> write, usable without the server.

>>> from engine import Synthesizer
>>> synth = Synthesizer().fit("data/quickstart_seed.csv")
>>> rows = synth.sample(1000, seed=7)
"""

from engine.errors import CATALOGUE, SimioError
from engine.schema import Column, Schema
from engine.synthesizer import Generation, NotFittedError, Synthesizer

__all__ = ["CATALOGUE", "Column", "Generation", "NotFittedError", "Schema", "SimioError",
           "Synthesizer"]
__version__ = "0.1.0"
