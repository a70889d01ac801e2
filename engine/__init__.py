"""simio engine: read -> clean -> fit -> sample -> write, usable without the server.

>>> from engine import Synthesizer
>>> synth = Synthesizer().fit("data/quickstart_seed.csv")
>>> rows = synth.sample(1000, seed=7)

Heavy names (the synthesizer pulls in scipy and numba) load on first use, so commands that
never touch the model — ``simio --help``, ``simio admin ...`` — start quickly.
"""

from engine._lazy import lazy_attributes
from engine._numba import use_user_cache_dir
from engine.errors import CATALOGUE, SimioError

use_user_cache_dir()      # before any engine module imports numba (see engine/_numba.py)

__all__ = ["CATALOGUE", "Column", "Generation", "NotFittedError", "Schema", "SimioError",
           "Synthesizer", "warm_up"]
__version__ = "0.1.0"

_LAZY = {"Column": "engine.schema", "Schema": "engine.schema",
         "Generation": "engine.synthesizer", "NotFittedError": "engine.synthesizer",
         "Synthesizer": "engine.synthesizer", "warm_up": "engine.synthesizer"}


__getattr__ = lazy_attributes("engine", _LAZY)
