"""Structure search: reachability kept up to date under random moves (hypothesis), the
array-based search equal to the plain every-move loop, and candidate screening."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import encoding, screening, statistics, structure
from engine.model.acyclicity import Reachability
from engine.model.network import BayesianNetworkModel, _in_schema_order
from engine.model.family_scores import FamilyScorer
from tests.engine import fixtures
from tests.engine.model.reference_fit import reference_learn_structure


def naive_reach(children, d):
    reach = np.zeros((d, d), dtype=bool)
    for start in range(d):
        stack, seen = list(children[start]), set()
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(children[node])
        reach[start, list(seen)] = True
    return reach


def naive_reversal_blocked(children, d):
    blocked = np.zeros((d, d), dtype=bool)
    for u in range(d):
        for v in children[u]:
            others = [[c for c in cs if (a, c) != (u, v)] for a, cs in enumerate(children)]
            blocked[u, v] = bool(naive_reach(others, d)[u, v])
    return blocked


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6),
                                             st.integers(0, 2)), max_size=40))
def test_reachability_follows_random_moves(d, moves):
    graph = Reachability(d)
    for u, v, op in moves:
        u, v = u % d, v % d
        has_edge = v in graph.children[u]
        if op == 0 and not has_edge:
            cyclic = bool(naive_reach(graph.children, d)[v, u]) or u == v
            assert graph.creates_cycle(u, v) == cyclic
            if not cyclic:
                graph.add(u, v)
        elif op == 1 and has_edge:
            graph.remove(u, v)
        elif op == 2 and has_edge and not graph.reversal_blocked()[u, v]:
            graph.reverse(u, v)
        assert np.array_equal(graph.reach, naive_reach(graph.children, d))
        assert not graph.reach.diagonal().any()             # still acyclic
        assert np.array_equal(graph.reversal_blocked() & _edges(graph, d),
                              naive_reversal_blocked(graph.children, d))


def _edges(graph, d):
    edges = np.zeros((d, d), dtype=bool)
    for u, cs in enumerate(graph.children):
        edges[u, list(cs)] = True
    return edges


def test_adding_a_cycle_is_refused():
    graph = Reachability(3)
    graph.add(0, 1)
    graph.add(1, 2)
    with pytest.raises(ValueError):
        graph.add(2, 0)


def scorer_for(frame, schema):
    model = BayesianNetworkModel()
    encs = [encoding.encode_categorical(c, frame[c.name]) if c.kind == "categorical"
            else encoding.encode_numeric(c, frame[c.name]) for c in schema]
    model.encodings_ = encs
    n_states = [e.n_states for e in encs]
    cols = list(schema)
    codes = statistics.compact_columns(
        len(frame), n_states, lambda j: encs[j].encode(_in_schema_order(frame[cols[j].name],
                                                                         cols[j])))
    return FamilyScorer(statistics.TableCounts(codes, n_states), encs), encs, model


def correlated_frame(n, d, seed):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    out = {}
    for j in range(d):
        s = latent @ rng.normal(size=2) + rng.normal(size=n)
        out[f"x{j}"] = (np.array(list("abcd"))[np.digitize(s, [-1, 0, 1])] if j % 2
                        else np.round(np.exp(s), 2))
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", [fixtures.quickstart, fixtures.quickstart_with_missing,
                                  lambda: correlated_frame(600, 8, 5)])
@pytest.mark.parametrize("max_parents", [1, 3])
def test_search_equals_the_every_move_loop(seed, max_parents):
    frame, schema = fixtures.cleaned(seed())
    scorer, encs, model = scorer_for(frame, schema)
    got = structure.learn_structure(scorer, encs, max_parents=max_parents,
                                    table_size=model._table_size)
    want = reference_learn_structure(scorer, encs, max_parents=max_parents,
                                     table_size=model._table_size)
    assert got == want
    assert any(got)


def test_small_tables_screen_nothing_out():
    frame, schema = fixtures.cleaned(correlated_frame(500, 12, 1))
    scorer, encs, _ = scorer_for(frame, schema)
    candidates = screening.screen(scorer.source, encs, scorer, [True] * len(encs))
    assert np.array_equal(candidates, ~np.eye(len(encs), dtype=bool))


def test_wide_tables_keep_the_strongest_partners_symmetrically():
    frame, schema = fixtures.cleaned(correlated_frame(2000, 30, 2))
    scorer, encs, _ = scorer_for(frame, schema)
    d = len(encs)
    assert d > screening.EXACT_COLUMNS
    candidates = screening.screen(scorer.source, encs, scorer, [True] * d)
    k = screening.n_candidates(d, len(frame))
    assert k < d - 1
    assert np.array_equal(candidates, candidates.T)
    assert not candidates.diagonal().any()
    assert (candidates.sum(axis=1) >= k).all()
    # the strongest partner of every column is among its candidates
    for v in range(d):
        tables = scorer.source.pairs(v, [u for u in range(d) if u != v])
        strength = [screening.pair_strength(t) for t in tables]
        best = [u for u in range(d) if u != v][int(np.argmax(strength))]
        assert candidates[v, best]
