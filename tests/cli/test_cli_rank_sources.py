"""``gtransfer rank-sources`` and :func:`gtransfer.selection.source_datasets.rank_source_datasets`: the scores are the
metric core's on the stated, seeded samples; bad inputs get one-line errors with hints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gtransfer.cli import main
from gtransfer.metrics.graph_egi import egi_score, ego_graph_gap_with_error
from gtransfer.metrics.graph_graphon import graphon_score
from gtransfer.selection.source_datasets import load_graph_sample
from tests.cli.helpers import error_lines

SOURCES = ["zinc250k-jtnn-test", "MUTAG", "PTC_MR"]  # a corpus (in ../shared/data) and two shipped TU datasets


def test_graph_sample_is_the_seeded_draw(shared_data):
    from gtransfer.data.loading import load_dataset

    sample = load_graph_sample("MUTAG", max_graphs=10, seed=3)
    indices = np.sort(np.random.default_rng(3).choice(188, size=10, replace=False))
    dataset = load_dataset("MUTAG")
    assert sample.available == 188 and len(sample.graphs) == 10 and sample.skipped == 0
    for (n, edges), index in zip(sample.graphs, indices):
        assert n == dataset[int(index)].num_nodes
        assert np.array_equal(edges, dataset[int(index)].edge_index.numpy())
    assert len(load_graph_sample("MUTAG", max_graphs=None).graphs) == 188
    zinc = load_graph_sample("zinc250k-jtnn-test", max_graphs=7, seed=1, data_root=shared_data)
    assert zinc.available == 5000 and len(zinc.graphs) + zinc.skipped == 7


def test_rank_sources_json_scores_are_the_egi_scores_of_the_samples(capsys, shared_data):
    argv = ["rank-sources", "--target", "ogbg-molbace", "--sources", *SOURCES, "--max-graphs", "30", "--seed", "2",
            "--num-pairs", "300", "--format", "json", "--no-progress", "--data-root", str(shared_data)]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["target"] == "ogbg-molbace" and printed["estimator"] == "egi" and printed["target_graphs"] == 30
    ranking = printed["ranking"]
    assert [row["rank"] for row in ranking] == [1, 2, 3]
    assert sorted(row["source"] for row in ranking) == sorted(SOURCES)
    scores = [row["score"] for row in ranking]
    assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
    target = load_graph_sample("ogbg-molbace", max_graphs=30, seed=2, data_root=shared_data).graphs
    for row in ranking:
        source = load_graph_sample(row["source"], max_graphs=30, seed=2, data_root=shared_data).graphs
        assert row["score"] == egi_score(source, target, num_pairs=300, seed=2)
        assert row["std_error"] == ego_graph_gap_with_error(source, target, num_pairs=300, seed=2)[1] > 0
        assert row["graphs"] == len(source) and row["nodes"] == sum(n for n, _ in source)


def test_rank_sources_graphon_csv_and_table(capsys):
    argv = [
        "rank-sources",
        "--target",
        "MUTAG",
        "--sources",
        "PTC_MR",
        "MUTAG",
        "--estimator",
        "graphon",
        "--max-graphs",
        "40",
        "--resolution",
        "16",
        "--format",
        "csv",
        "--no-progress",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "rank,source,score,std_error,graphs,nodes,available,skipped,self_loops,load_seconds,seconds"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[1] for r in rows] == ["MUTAG", "PTC_MR"]  # the target itself first, at 0
    assert float(rows[0][2]) == pytest.approx(0.0, abs=1e-12) and float(rows[0][3]) == 0.0
    expected = graphon_score(
        load_graph_sample("PTC_MR", max_graphs=40).graphs,
        load_graph_sample("MUTAG", max_graphs=40).graphs,
        resolution=16,
    )
    assert float(rows[1][2]) == pytest.approx(expected, rel=1e-12)
    assert main(argv[:-3] + ["--no-progress"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("target MUTAG: 40 graphs") and "EXPERIMENTAL" in table[0]
    assert table[1].split() == [
        "rank",
        "source",
        "score",
        "std_error",
        "graphs",
        "nodes",
        "available",
        "skipped",
        "self_loops",
        "load_seconds",
        "seconds",
    ]


def test_rank_sources_bad_inputs(capsys):
    assert main(["rank-sources", "--target", "MUTAG", "--sources", "zink", "--no-progress"]) == 2
    err = error_lines(capsys)
    assert err[0] == "gtransfer rank-sources: error: TU dataset zink: no file found. Expected one of:"
    assert any(
        line.startswith("Pretraining corpora (when their files are in the data root): moses-test,") for line in err
    )
    assert err[-1].startswith("hint: ")
    assert main(["rank-sources", "--target", "MUTAG", "--sources", "PTC_MR", "PTC_MR", "--no-progress"]) == 2
    assert (
        error_lines(capsys)[0]
        == "gtransfer rank-sources: error: sources named more than once: ['PTC_MR']; name each source once"
    )
    assert main(["rank-sources", "--target", "MUTAG", "--sources", "PTC_MR", "--max-graphs", "-1"]) == 2
    err = error_lines(capsys)
    assert err == ["gtransfer rank-sources: error: --max-graphs must be 0 (every graph) or positive, got -1",
                   "hint: pass --max-graphs N, e.g. 500"]


def test_rank_sources_help_names_the_estimators(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["rank-sources", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at the terminal's width
    assert "--estimator {egi,graphon}" in out and "Zhu et al. 2021" in out and "zinc = zinc250k-jtnn-valid" in out
