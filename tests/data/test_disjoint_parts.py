"""part=source / part=target: the disjoint halves that keep the target-selection truth's source heads off its
targets."""

from __future__ import annotations

import numpy as np
import pytest

from gtransfer.data.targets import disjoint_parts, format_target, load_target, parse_target


def test_the_halves_are_disjoint_cover_the_dataset_and_keep_each_class_share():
    labels = np.repeat(np.arange(4), [10, 21, 6, 30])
    parts = disjoint_parts(labels)
    assert np.intersect1d(parts["source"], parts["target"]).size == 0
    assert np.array_equal(np.sort(np.concatenate([parts["source"], parts["target"]])), np.arange(labels.size))
    for c, count in enumerate([10, 21, 6, 30]):
        assert abs(np.sum(labels[parts["source"]] == c) - count / 2) <= 0.5
    again = disjoint_parts(labels)
    assert all(np.array_equal(parts[p], again[p]) for p in parts)  # one fixed seed: every caller agrees


def test_grammar_round_trips_part_and_leaves_other_strings_unchanged():
    assert format_target("ENZYMES", k=3, ratio=4, seed=1) == "ENZYMES:k=3,ratio=4,seed=1"
    text = format_target("ENZYMES", k=3, ratio=4, seed=1, part="target")
    assert text == "ENZYMES:k=3,ratio=4,seed=1,part=target"
    assert parse_target(text)[2] == {"k": 3, "ratio": 4.0, "seed": 1, "part": "target"}
    assert parse_target("ENZYMES:part=source") == ("ENZYMES", None, {"part": "source"})
    with pytest.raises(ValueError, match="part must be source or target"):
        parse_target("ENZYMES:k=2,part=both")


def test_no_target_graph_appears_in_the_source_half(shared_data):  # ENZYMES is not shipped: skipped without it
    """The rule of the target-selection truth: a source head trained on DATASET:part=source has seen no graph of
    any DATASET:...,part=target target (class subsets of every size, ratio and seed)."""
    source = load_target("ENZYMES:part=source")
    assert source.indices.size == 300 and np.bincount(source.labels).tolist() == [50] * 6
    full = load_target("ENZYMES")
    assert np.array_equal(full.labels[source.indices], source.labels)  # indices map back to the dataset's graphs
    seen = set(source.indices.tolist())
    drawn = set()
    for k in (2, 4, 6):
        for ratio in (1, 4):
            for seed in (0, 1):
                target = load_target(format_target("ENZYMES", k=k, ratio=ratio, seed=seed, part="target"))
                assert seen.isdisjoint(target.indices.tolist()), (k, ratio, seed)
                drawn |= set(target.indices.tolist())
                assert len(np.unique(target.labels)) == k
    assert len(drawn) > 200 and drawn <= set(range(600)) - seen
