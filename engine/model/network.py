"""The Bayesian network model: encodings, learned structure and fitted tables.

scikit-learn conventions: ``__init__`` stores parameters, ``fit`` validates, sets the
fitted attributes (ending in ``_``) and returns ``self``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from typing import TYPE_CHECKING

import numpy as np

from engine.errors import SimioError
from engine.model import structure
from engine.model import relations as model_relations
from engine.model.scores import PROBIT, TABLE, parent_state_map, parent_states
from engine.progress import no_progress
from engine.schema import Schema

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class KernelTables:
    """The network flattened into the arrays ``sampling._kernels._forward_sample`` takes."""

    order: np.ndarray
    n_parents: np.ndarray
    parent_index: np.ndarray
    parent_map_offset: np.ndarray
    parent_map: np.ndarray
    parent_stride: np.ndarray
    card: np.ndarray
    table_offset: np.ndarray
    cdf: np.ndarray
    probs: np.ndarray


class BayesianNetworkModel:
    """Discrete Bayesian network over encoded columns with within-bin numeric detail."""

    def __init__(self, max_parents: int = structure.MAX_PARENTS):
        self.max_parents = max_parents

    def fit(self, frame: pd.DataFrame, schema: Schema, relations: list[dict] | None = None,
            *, progress=no_progress, partitions: int = 1, counts=None, encodings=None,
            node_fitter=None) -> "BayesianNetworkModel":
        """``relations``: the exact relations the cleaning found (``model/relations.py``).
        ``progress``: an ``engine.progress`` callback (stages screen, structure,
        parameters). ``partitions``: gather the counts over that many row blocks and add
        them up (the same model; the merge property ``statistics`` relies on). ``counts``: a
        callable ``(codes, n_states) -> counts source`` that gathers them elsewhere
        (``engine.distributed`` counts on Dask workers); the model is the same.
        ``encodings`` (fixed elsewhere, e.g. on a sample: ``engine.distributed``) and
        ``node_fitter`` (the detail's fitter class) replace the ones taken from ``frame``."""
        # One BLAS thread: the products here are small, several threads only oversubscribe
        # the cores, and a fixed thread count keeps the fitted numbers identical wherever
        # the fit runs.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self._fit(frame, schema, [dict(r) for r in relations or []], progress,
                             partitions, counts, encodings, node_fitter)

    def _fit(self, frame, schema, relations, progress, partitions, counts=None,
             encodings=None, node_fitter=None) -> "BayesianNetworkModel":
        # Fit-only modules load here, not at import: a loaded model samples without them
        # (and without pandas or scipy), which keeps `simio generate` quick to start.
        from engine.model import encoding, screening, statistics
        from engine.model.family_scores import FamilyScorer, on_threads
        from engine.model.node_detail import NodeFitter

        node_fitter = node_fitter or NodeFitter
        if list(frame.columns) != schema.names:
            raise ValueError("frame columns must equal the schema's names, in order")
        if len(frame) == 0:
            raise SimioError("simio_no_data_rows", "the cleaned table has no rows to learn from")
        if not isinstance(self.max_parents, int) or not 0 <= self.max_parents <= 6:
            raise ValueError("max_parents must be an integer between 0 and 6")
        self.schema_ = schema
        self.relations_ = relations
        derived = model_relations.numeric_targets(relations)
        related = model_relations.related_columns(relations)
        series = [frame[col.name] for col in schema]   # pandas lookups stay on this thread

        def encode(j):
            col = schema.columns[j]
            return (encoding.encode_derived(col) if col.name in derived
                    else encoding.encode_categorical(col, series[j], pool=col.name not in related)
                    if col.kind == "categorical"
                    else encoding.encode_numeric(col, series[j],
                                                 model_relations.band_cuts(relations, col.name)))

        # each column's encoding is a pure function of its values: side by side, in order
        self.encodings_ = (list(encodings) if encodings is not None
                           else list(on_threads(encode, range(len(series)))))
        for rel in derived.values():
            values = frame[rel["target"]].to_numpy(dtype=np.float64, na_value=np.nan)
            rel["is_integer"] = bool(schema[rel["target"]].is_integer)
            rel["decimals"] = encoding.seed_decimals(np.unique(values[~np.isnan(values)]))
        # -- issue 12: counts, screening, search, tables from counts -----------------------
        progress("screen")
        columns = list(schema)
        n_states = [enc.n_states for enc in self.encodings_]
        codes = statistics.compact_columns(
            len(frame), n_states,
            lambda j: self.encodings_[j].encode(_in_schema_order(series[j], columns[j])),
            each=on_threads)
        source = (counts(codes, n_states) if counts is not None
                  else statistics.TableCounts(codes, n_states) if partitions <= 1
                  else statistics.split_rows(codes, n_states, partitions))
        scorer = FamilyScorer(source, self.encodings_)
        can_parent = [n <= structure.MAX_PARENT_STATES for n in n_states]
        candidates = screening.screen(
            source, self.encodings_, scorer, can_parent,
            progress=lambda done, total: progress("screen", done, total))
        progress("screen", note=f"{len(n_states)} columns, "
                                f"{screening.n_candidates(len(n_states), len(frame))} "
                                "candidate parents each")
        moves = [0]

        def moved(done):
            moves[0] = done
            progress("structure", done)

        progress("structure", 0)
        self.parents_ = structure.learn_structure(
            scorer, self.encodings_, max_parents=self.max_parents, table_size=self._table_size,
            candidates=candidates, progress=moved)
        progress("structure", note=f"{moves[0]} moves, {sum(map(len, self.parents_))} edges, "
                                   f"{int(candidates.sum())} candidate edges")
        progress("parameters", 0, len(self.parents_))

        def kind_of(child, parents):
            # A parentless probit is the marginal itself; as a table the node stays plain,
            # so the sampler can tilt it towards the children that track it inside a bin.
            return scorer.kind(child, parents) if parents else TABLE

        self.kinds_ = [kind_of(j, ps) for j, ps in enumerate(self.parents_)]
        values = {j: frame[enc.name].to_numpy(dtype=np.float64, na_value=np.nan)
                  for j, enc in enumerate(self.encodings_)
                  if enc.kind == "numeric" and not enc.derived}
        fitter = node_fitter(scorer, self.encodings_, codes.T, values, partitions)
        self.tables_, self.latents_, self.within_ = [], [], []

        def refit(child, parents):
            """Refit one node; ``relations.enforce`` calls it for a parent set it grew."""
            self.kinds_[child] = kind_of(child, parents)
            self.tables_[child], self.latents_[child], self.within_[child] = fitter.fit(
                child, parents, self.kinds_[child])
            self.__dict__.pop("kernel_tables", None)

        # each node's fit is a pure function of the counts: fitted side by side, kept in order
        for fitted in scorer.map(lambda j: fitter.fit(j, self.parents_[j], self.kinds_[j]),
                                 range(len(self.parents_))):
            for out, part in zip((self.tables_, self.latents_, self.within_), fitted):
                out.append(part)
        progress("parameters", len(self.tables_), note=f"{len(self.tables_)} tables")
        self.n_training_rows_ = int(len(frame))
        self.__dict__.pop("kernel_tables", None)

        model_relations.enforce(self, refit)
        return self

    def _table_size(self, child: int, parents, kind: str | None = None) -> int:
        """Cells of the child's table; without ``kind``, the larger of its options."""
        enc = self.encodings_[child]
        if kind is None:
            kind = PROBIT if enc.kind == "numeric" else TABLE
        size = enc.n_states
        for p in parents:
            size *= parent_states(enc, self.encodings_[p], kind)
        return size

    def node_latent(self, node: int):
        """A probit node's latent normal (mu per configuration, sigma, cum), else None."""
        latents = getattr(self, "latents_", None)
        return None if latents is None else latents[node]

    def node_within(self, node: int):
        """How a numeric node tracks its numeric parents inside a bin, else None."""
        within = getattr(self, "within_", None)
        return None if within is None else within[node]

    def config_of_rows(self, node: int, codes: np.ndarray) -> np.ndarray:
        """Each row's parent configuration (table row) for ``node``."""
        kt = self.kernel_tables
        cfg = np.zeros(codes.shape[0], dtype=np.int64)
        for s in range(int(kt.n_parents[node])):
            pmap = kt.parent_map[kt.parent_map_offset[node, s]:]
            cfg += pmap[codes[:, kt.parent_index[node, s]]] * kt.parent_stride[node, s]
        return cfg

    @property
    def node_kinds(self) -> list[str]:
        """Each node's table kind; a hand-built model without ``kinds_`` gets the default
        (probit-indexed tables for numeric children, count tables otherwise)."""
        kinds = getattr(self, "kinds_", None)
        if kinds is not None:
            return kinds
        return [PROBIT if e.kind == "numeric" else TABLE for e in self.encodings_]

    @property
    def edges(self) -> list[tuple[str, str]]:
        names = [e.name for e in self.encodings_]
        return [(names[p], names[c]) for c, ps in enumerate(self.parents_) for p in ps]

    @cached_property
    def kernel_tables(self) -> KernelTables:
        encs, d = self.encodings_, len(self.encodings_)
        width = max([len(ps) for ps in self.parents_] + [1])
        parent_index = np.zeros((d, width), dtype=np.int64)
        map_offset = np.zeros((d, width), dtype=np.int64)
        stride = np.zeros((d, width), dtype=np.int64)
        maps: list[np.ndarray] = []
        used = 0
        for j, (ps, kind) in enumerate(zip(self.parents_, self.node_kinds)):
            sizes = [parent_states(encs[j], encs[p], kind) for p in ps]
            for s, p in enumerate(ps):
                parent_index[j, s] = p
                stride[j, s] = int(np.prod(sizes[s + 1:])) if s + 1 < len(sizes) else 1
                pmap = parent_state_map(encs[j], encs[p], kind)
                map_offset[j, s] = used
                maps.append(pmap)
                used += pmap.size
        card = np.array([e.n_states for e in encs], dtype=np.int64)
        probs = np.concatenate([t.ravel() for t in self.tables_])
        cdfs = []
        for t in self.tables_:
            c = np.cumsum(t, axis=1)
            # From the last possible state on, the CDF is exactly 1: rounding must never
            # leave a uniform past it (it would land on a zero-probability state).
            c[c >= c[:, -1:]] = 1.0
            cdfs.append(c.ravel())
        sizes = np.array([t.size for t in self.tables_], dtype=np.int64)
        return KernelTables(
            order=structure.topological_order(self.parents_),
            n_parents=np.array([len(ps) for ps in self.parents_], dtype=np.int64),
            parent_index=parent_index, parent_map_offset=map_offset,
            parent_map=np.concatenate(maps) if maps else np.zeros(1, dtype=np.int64),
            parent_stride=stride, card=card,
            table_offset=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
            cdf=np.concatenate(cdfs), probs=probs)


def _in_schema_order(series: pd.Series, column) -> pd.Series:
    """Categorical codes must follow the schema's level order, whatever the frame's is."""
    if column.kind != "categorical":
        return series
    return in_level_order(series, list(column.levels or []))


def in_level_order(series: pd.Series, levels: list) -> pd.Series:
    """``series`` as a Categorical over the schema's ``levels``, in their order (what the
    encoding's codes follow). A cleaned column is already a Categorical of str: its codes
    are remapped (no per-row objects, 5x faster at 1M rows); anything else goes by value."""
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype) and all(
            isinstance(v, str) for v in [*series.cat.categories, *levels]):
        position = pd.Index(levels).get_indexer(series.cat.categories)
        codes = series.cat.codes.to_numpy()
        mapped = np.where(codes >= 0, position[codes] if position.size else -1, -1)
        return pd.Series(pd.Categorical.from_codes(mapped, categories=levels),
                         index=series.index)
    values = series.astype(object).where(series.notna(), None)
    return pd.Series(pd.Categorical(values, categories=levels), index=series.index)
