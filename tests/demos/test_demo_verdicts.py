"""The demo's verdict per metric: a constant metric picks nothing, an undefined Spearman is not '+nan'."""

import pandas as pd

from gtransfer.demos.graph import metric_verdicts


def test_a_constant_metric_gets_no_ranking_and_no_pick():
    table = pd.DataFrame({
        "encoder": ["a", "b", "c"],
        "truth": [0.70, 0.60, 0.80],
        "h_score": [1.0, 1.0 + 1e-9, 1.0],  # saturated at C - 1 = 1 for every encoder
        "logme": [0.2, 0.1, 0.3],
    })
    lines = metric_verdicts(table, ["h_score", "logme"], "truth")
    assert lines == [
        "h_score  Spearman n/a (constant)   constant: no ranking (1 for every encoder)",
        "logme    Spearman +1.00   picks c  (the best)",
    ]
    assert not any("nan" in line for line in lines)


def test_a_metric_against_a_constant_truth_is_n_a():
    table = pd.DataFrame({"encoder": ["a", "b", "c"], "truth": [0.5, 0.5, 0.5], "logme": [0.1, 0.3, 0.2]})
    assert metric_verdicts(table, ["logme"], "truth") == ["logme  Spearman n/a (constant truth)   picks b"]
