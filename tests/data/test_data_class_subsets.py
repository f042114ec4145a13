import numpy as np
import pytest

from gtransfer.data.class_subsets import class_subset, describe_labels


def test_describe_labels_entropy_and_ratio():
    info = describe_labels([0] * 90 + [1] * 10, name="t")
    p = np.array([0.9, 0.1])
    assert info.num_samples == 100 and info.num_classes == 2
    assert info.class_counts == (90, 10)
    assert info.label_entropy == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    assert info.imbalance_ratio == pytest.approx(9.0)


def test_class_subset_ratio_and_determinism():
    labels = np.repeat(np.arange(6), 100)
    idx, y = class_subset(labels, num_classes=4, imbalance_ratio=8.0, seed=3)
    idx2, y2 = class_subset(labels, num_classes=4, imbalance_ratio=8.0, seed=3)
    np.testing.assert_array_equal(idx, idx2)
    counts = np.bincount(y)
    assert counts.size == 4 and counts.max() == 100 and counts.min() == round(100 / 8)
    assert sorted(np.unique(labels[idx])) == sorted(set(labels[idx].tolist()))
    # remapping preserves the order of original class ids
    originals = np.unique(labels[idx])
    for new, old in enumerate(originals):
        assert np.all(labels[idx][y == new] == old)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 7}, "num_classes"),
        ({"num_classes": 2, "imbalance_ratio": 0.5}, "imbalance_ratio"),
        ({"classes": [0, 9]}, "absent"),
        ({}, "num_classes or classes"),
    ],
)
def test_class_subset_rejects_bad_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        class_subset(np.repeat(np.arange(6), 10), **kwargs)


def test_labels_must_be_integers():
    with pytest.raises(ValueError, match="integers"):
        describe_labels([0.5, 1.0])


@pytest.mark.parametrize("target", ["ENZYMES:k=3,max=0", "ENZYMES:k=3,max=1,seed=2", "cifar10-test:classes=3-5,max=1"])
def test_a_class_subset_target_with_fewer_than_two_per_class_is_refused_by_the_grammar(target):
    """ENZYMES:k=3,max=0 used to be ranked on n = 3: one sample per class, labels that are sample ids."""
    from gtransfer.data.targets import load_target, parse_target

    with pytest.raises(ValueError, match=r"leaves fewer than 2 samples per class.*give max=2 or more"):
        parse_target(target)
    with pytest.raises(ValueError, match=r"leaves fewer than 2 samples per class"):
        load_target(target)  # before any data is read


def test_a_class_subset_whose_smallest_class_would_hold_one_sample_is_refused():
    labels = np.repeat(np.arange(4), 50)
    with pytest.raises(ValueError, match=r"has 1 sample\(s\) in its smallest class; every class needs at least 2.*"
                                         r"raise max \(max_per_class\) to at least 8 or lower the ratio"):
        class_subset(
            labels, num_classes=3, imbalance_ratio=4.0, max_per_class=3
        )  # sizes 3, round(1.5) = 2, round(0.75) = 1
    indices, subset = class_subset(labels, num_classes=3, imbalance_ratio=4.0, max_per_class=8)
    assert np.bincount(subset).min() == 2 and indices.size == subset.size == 8 + 4 + 2
