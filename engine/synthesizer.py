"""The Python API: ``Synthesizer(...).fit(seed).sample(n, seed=...)``.

read -> clean -> fit -> sample (optionally under a scenario) -> write, with scikit-learn
conventions: ``__init__`` stores parameters, ``fit`` returns ``self`` and sets ``schema_``,
``cleaning_summary_``, ``cleaning_decisions_``, ``seed_marginals_`` (scenario support) and
``model_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine import rng
from engine.errors import SimioError
from engine.fit_defaults import TEXT_MIN_COUNT
from engine.io.writers import ARROW_TABLES, open_writer, output_format
from engine.model import structure
from engine.model.network import BayesianNetworkModel
from engine.model.persistence import load_model, save_model
from engine.model.relations import translate_conditions
from engine.progress import ProgressCallback, no_progress
from engine.quality.seed_marginals import SeedMarginals, from_old_sketch
from engine.sampling import forward
from engine.sampling.conditions import DEFAULT_MAX_UPWEIGHT, calendar_units, parse_conditions
from engine.sampling.prefetch import prefetch

# Loading a model and writing Parquet/Arrow/CSV imports none of the fit code, the readers,
# the quality report or pandas (`simio generate` starts in well under a second): they load
# in the methods that need them (``fit``, ``sample``'s DataFrame, a scenario's support).
if TYPE_CHECKING:
    import pandas as pd

    from engine.io import RawTable


class NotFittedError(SimioError, AttributeError):
    """``sample``/``save`` before ``fit`` (a ValueError and an AttributeError, as sklearn's)."""


@dataclass
class Generation:
    """What a generation produced: rows, counts, status and the scenario as applied."""

    rows_requested: int
    rows_generated: int
    seed: int
    scenario: dict = field(default_factory=dict)
    upweight_needed: float = 1.0
    # {"seed_rows_in_scenario", "extrapolated_share"} for a conditioned generation whose
    # model carries the seed's marginals (docs/conditioning.md, "Scenario support") and
    # they cover every column and pair the scenario touches; else None.
    scenario_support: dict | None = None
    frames: Iterator[pd.DataFrame] | None = None
    # The same rows as lists of frames, each list one chunk for a writer to write as one
    # unit (``forward.iter_sample_groups``); None: each frame is its own unit.
    frame_groups: Iterator[list[pd.DataFrame]] | None = None

    @property
    def status(self) -> str:
        return "ready" if self.rows_generated == self.rows_requested else "partial"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.concat(list(self.frames), ignore_index=True)


class Synthesizer:
    """Clean a seed table, fit a Bayesian network, and generate synthetic rows.

    Parameters
    ----------
    auto_clean : bool
        Run the default cleaning pipeline (see docs/cleaning.md). ``False`` keeps every
        column the model can represent.
    max_parents : int
        Bound on parents per node in the learned network.
    max_upweight : float
        Feasibility cap of scenario conditioning (see docs/conditioning.md).
    text_min_count : int
        Free text keeps only values seen at least this many times in the seed, so no
        synthetic value is one fewer respondents wrote (see docs/cleaning.md, Free text).
    """

    def __init__(self, auto_clean: bool = True, max_parents: int = structure.MAX_PARENTS,
                 max_upweight: float = DEFAULT_MAX_UPWEIGHT,
                 text_min_count: int = TEXT_MIN_COUNT):
        self.auto_clean = auto_clean
        self.max_parents = max_parents
        self.max_upweight = max_upweight
        self.text_min_count = text_min_count

    # -- fitting --------------------------------------------------------------------
    def fit(self, data, *, filename: str | None = None,
            progress: ProgressCallback = no_progress, counts=None) -> "Synthesizer":
        """Fit on a DataFrame, a RawTable, a file path, the bytes of a seed file or a Dask
        DataFrame (counted on its cluster: ``engine.distributed``, docs/distributed.md).

        ``progress``: an ``engine.progress`` callback, told the stages read, clean, screen,
        structure and parameters as the fit reaches them. ``counts``: where the model's
        counts are gathered (``BayesianNetworkModel.fit``); the default is this process.
        """
        if type(data).__module__.startswith("dask."):  # never imports dask for other data
            from engine.distributed.fit import fit_dask_frame

            return fit_dask_frame(self, data, progress=progress)
        from engine.cleaning import clean
        from engine.quality.seed_marginals import count_marginals

        progress("read")
        raw = _as_raw_table(data, filename)
        progress("read", note=f"{len(raw.frame):,} rows x {raw.frame.shape[1]} columns")
        progress("clean")
        result = clean(raw, auto_clean=bool(self.auto_clean),
                       text_min_count=self.text_min_count)
        progress("clean", note=f"{len(result.schema)} columns kept")
        self.model_ = BayesianNetworkModel(max_parents=self.max_parents).fit(
            result.frame, result.schema, result.relations, progress=progress, counts=counts)
        self.schema_ = result.schema
        self.cleaning_summary_ = result.summary
        self.cleaning_decisions_ = result.decisions
        self.seed_marginals_ = count_marginals(self.model_, result.frame)
        return self

    # -- sampling -------------------------------------------------------------------
    def sample(self, n: int, *, seed: int | None = None, conditions: dict | None = None,
               chunk_rows: int = forward.DEFAULT_CHUNK_ROWS) -> pd.DataFrame:
        """``n`` synthetic rows (fewer only when a scenario is partially feasible)."""
        return self.generate(n, seed=seed, conditions=conditions,
                             chunk_rows=chunk_rows).to_frame()

    def generate(self, n: int, *, seed: int | None = None, conditions: dict | None = None,
                 chunk_rows: int = forward.DEFAULT_CHUNK_ROWS, arrow: bool = False
                 ) -> Generation:
        """Plan a generation; its ``frames`` yield the rows chunk by chunk. ``arrow``: the
        ``frame_groups`` of an unconditioned generation hold ``pa.Table``s, built without
        pandas (``engine.sampling.assembly``), the same rows and types."""
        model = self._fitted()
        n = _row_count(n)
        seed = rng.resolve_seed(seed)
        conditions = translate_conditions(model, calendar_units(model.schema_, conditions))
        scenario = parse_conditions(model.schema_, conditions, self._dropped_columns())
        if scenario.is_empty:
            return Generation(n, n, seed, frames=forward.iter_sample(model, n, seed, chunk_rows),
                              frame_groups=forward.iter_sample_groups(model, n, seed,
                                                                      chunk_rows, arrow=arrow))
        from engine.quality.conditioning import scenario_support
        from engine.sampling import conditional   # loaded for scenarios only

        draw = conditional.draw_conditional(model, n, scenario, seed, self.max_upweight)
        return Generation(n, draw.rows_generated, seed, scenario=scenario.to_dict(),
                          upweight_needed=draw.upweight_needed,
                          scenario_support=scenario_support(
                              getattr(self, "seed_marginals_", None), draw.solution),
                          frames=conditional.iter_decode(model, draw, seed, chunk_rows))

    def scenario_support(self, n: int, conditions: dict | None, *, seed: int = 0) -> dict | None:
        """The support of a scenario without drawing rows (only the solve runs); None for no
        scenario, a model saved without seed marginals or a scenario they leave out."""
        model = self._fitted()
        scenario = parse_conditions(model.schema_, conditions,
                                    self._dropped_columns())
        if scenario.is_empty:
            return None
        from engine.quality.conditioning import scenario_support
        from engine.sampling import conditional

        solution = conditional.solve_scenario(model, _row_count(n), scenario, self.max_upweight,
                                              seed)
        return scenario_support(getattr(self, "seed_marginals_", None), solution)

    def _dropped_columns(self) -> list:
        # a model attached by hand (model_ only) has no cleaning summary
        return getattr(self, "cleaning_summary_", {}).get("dropped_columns") or []

    def write(self, path, n: int, *, fmt: str | None = None, seed: int | None = None,
              conditions: dict | None = None, on_chunk=None,
              formula_guard: str = "all") -> Generation:
        """Generate into ``path`` atomically; ``on_chunk(chunk)`` after each written chunk:
        a ``pa.Table`` for unconditioned Parquet/Arrow/CSV (written without pandas), else a
        DataFrame (``len`` works on both).

        ``formula_guard`` (CSV only): see ``engine.io.writers.neutralise_formulas``.
        ``fmt`` may be any of ``engine.io.writers.FORMATS``; the writer is chosen (and a
        format's row limit checked) before any row is drawn. Without ``fmt`` the name's
        extension says it (parquet for a name without one); an extension we do not write
        is refused, so nothing is written under a name that says another format."""
        fmt = fmt if fmt is not None else output_format(path)
        writer = open_writer(path, fmt, formula_guard=formula_guard,
                             schema=self._fitted().schema_)
        if writer.max_rows is not None and _row_count(n) > writer.max_rows:
            raise SimioError("simio_invalid_field", f"row_count {n:,} exceeds the "
                             f"{writer.max_rows:,} data rows a {fmt} file can hold.")
        generation = self.generate(n, seed=seed, conditions=conditions,
                                   arrow=fmt in ARROW_TABLES)
        groups = generation.frame_groups or ([frame] for frame in generation.frames)
        with writer:
            for group in prefetch(groups):
                _write_group(writer, group, on_chunk)
                del group              # freed before the next chunk is drawn
        generation.frames = generation.frame_groups = None
        return generation

    def write_dataset(self, path, n: int, *, seed: int | None = None,
                      conditions: dict | None = None, client=None, on_blocks=None):
        """Generate into a partitioned Parquet dataset at ``path`` on a Dask ``client``
        (``engine.distributed.dataset.write_dataset``; rows as ``write`` would give)."""
        from engine.distributed.dataset import write_dataset

        return write_dataset(self, path, n, seed=seed, conditions=conditions, client=client,
                             on_blocks=on_blocks)

    # -- persistence ----------------------------------------------------------------
    def save(self, path) -> Path:
        model = self._fitted()
        extra = {"cleaning_summary": self.cleaning_summary_,
                 "cleaning_decisions": self.cleaning_decisions_,
                 "params": {"auto_clean": bool(self.auto_clean),
                            "max_parents": self.max_parents,
                            "max_upweight": float(self.max_upweight),
                            "text_min_count": int(self.text_min_count)}}
        marginals = getattr(self, "seed_marginals_", None)
        return save_model(path, model, extra=extra, extra_arrays=None if marginals is None else
                          {f"seed_marginals/{k}": v for k, v in marginals.to_arrays().items()})

    @classmethod
    def load(cls, path) -> "Synthesizer":
        model, extra = load_model(path)
        params = extra.get("params", {})
        synth = cls(**{k: v for k, v in params.items() if k in (
            "auto_clean", "max_parents", "max_upweight", "text_min_count")})
        synth.model_ = model
        synth.schema_ = model.schema_
        synth.cleaning_summary_ = extra.get("cleaning_summary", {})
        synth.cleaning_decisions_ = extra.get("cleaning_decisions", [])
        synth.seed_marginals_ = _saved_marginals(extra, model)
        return synth

    def _fitted(self) -> BayesianNetworkModel:
        if not hasattr(self, "model_"):
            raise NotFittedError("simio_invalid_field",
                                 "this Synthesizer is not fitted yet; call fit(seed) first")
        return self.model_


def _write_group(writer, group, on_chunk) -> None:
    writer.write_group(group)
    if on_chunk is not None:
        for frame in group:
            on_chunk(frame)


def _saved_marginals(extra: dict, model) -> SeedMarginals | None:
    arrays = {key.split("/", 1)[1]: value for key, value in extra.get("arrays", {}).items()
              if key.startswith("seed_marginals/")}
    if arrays:
        return SeedMarginals.from_arrays(arrays)
    # files written before the marginals carried per-pattern counts: keep only marginals
    return from_old_sketch(extra.get("seed_sketch"), model)


def _as_raw_table(data, filename) -> RawTable:
    import pandas as pd

    from engine.io import RawTable, read_table

    if isinstance(data, RawTable):
        return data
    if isinstance(data, pd.DataFrame):
        return RawTable(frame=data, source_format="frame")
    if isinstance(data, (str, Path, bytes, bytearray)):
        return read_table(data, filename=filename)
    raise TypeError(f"fit() takes a DataFrame, a RawTable, a path or bytes, not "
                    f"{type(data).__name__}")


def _row_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SimioError("simio_invalid_field", f"row_count must be a positive integer, not {n!r}")
    return n


def warm_up() -> None:
    """Load (or compile, the first time) every numba kernel on a tiny model.

    The server calls this at start so the first real request does not pay compilation;
    with the on-disk cache it takes well under a second.
    """
    import pandas as pd

    frame = pd.DataFrame({"level": ["a", "b", "a", "b", "a", "c"] * 4,
                          "value": [1.0, 2.5, 3.0, 4.5, 5.0, 6.5] * 4})
    synth = Synthesizer().fit(frame)
    synth.sample(8, seed=0)
    synth.sample(8, seed=0, conditions={"categorical": {"level": {"a": 0.5}},
                                        "numeric": {"value": {"min": 1.0, "max": 5.0}}})
