"""Every public metric shows its use in a doctest (``make test`` runs them with ``--doctest-modules``)."""

import inspect

import pytest

import gtransfer.metrics as metrics
from gtransfer.metrics import graph_egi, graph_graphon

GRAPH_METRICS = {
    "egi_score": graph_egi.egi_score,
    "ego_graph_gap": graph_egi.ego_graph_gap,
    "graphon_distance": graph_graphon.graphon_distance,
    "graphon_score": graph_graphon.graphon_score,
}
#: exported helpers that are not metrics (input validation)
HELPERS = {"as_class_indices"}
EXPORTED_FUNCTIONS = {
    name: getattr(metrics, name)
    for name in metrics.__all__
    if inspect.isfunction(getattr(metrics, name)) and name not in HELPERS
}
ALL = {**metrics.METRICS, **metrics.POOL_METRICS, **GRAPH_METRICS, **EXPORTED_FUNCTIONS}


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_metric_docstring_has_a_doctest_example(name):
    doc = inspect.getdoc(ALL[name]) or ""
    assert "Examples:" in doc and ">>> " in doc, f"{name}: the docstring needs an Examples section with a doctest"


def test_the_registries_are_covered():
    # the names the registries list are the functions checked above (not a filtered subset)
    assert set(metrics.METRICS) | set(metrics.POOL_METRICS) <= set(ALL)
    assert len(metrics.METRICS) >= 17 and len(metrics.POOL_METRICS) >= 2
