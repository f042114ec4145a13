"""Target-selection corrections: remove the label-entropy offset that NCE and LEEP carry.

In target selection one source encoder is fixed and many targets are ranked. Targets differ in
label count and imbalance, hence in label entropy H(Y). Since NCE = I(Y; Z) - H(Y), and an
uninformative source gives LEEP = -H(Y), both reward low-entropy targets whatever the source
(docs/design.md section 2; Ibrahim et al. 2022). The corrections:

* normalised: NCE_norm = 1 + NCE / H(Y) = I(Y; Z) / H(Y) in [0, 1]; LEEP_norm = 1 + LEEP / H(Y),
  0 for an uninformative source (the default form);
* gain: NCE + H(Y) = I(Y; Z) and LEEP + H(Y).
"""

from __future__ import annotations

import numpy as np

from ._backend import Array
from ._validation import check_labels
from .leep import leep, nce, nce_from_probs

__all__ = [
    "label_entropy",
    "correct_for_label_entropy",
    "normalized_nce",
    "normalized_nce_from_probs",
    "normalized_leep",
    "nce_gain",
    "leep_gain",
    "CORRECTIONS",
]

CORRECTIONS = ("normalized", "gain")


def label_entropy(labels: Array) -> float:
    r"""Empirical label entropy H(Y) = -sum_c p_c log p_c, in nats.

    Examples:
        >>> import numpy as np
        >>> round(label_entropy(np.arange(60) % 3), 4)  # log 3
        1.0986
        >>> round(label_entropy(np.arange(60) % 2), 4)  # log 2
        0.6931
    """
    labels = check_labels(labels, len(labels))
    p = np.bincount(labels) / labels.size
    return float(-(p * np.log(p)).sum())


def correct_for_label_entropy(value: float, entropy: float, *, form: str = "normalized") -> float:
    """Apply a correction to a raw NCE or LEEP value given the target's H(Y).

    Examples:
        >>> correct_for_label_entropy(-0.5, 2.0)  # 1 + value / H(Y)
        0.75
        >>> correct_for_label_entropy(-0.5, 2.0, form='gain')  # value + H(Y)
        1.5
    """
    if form == "normalized":
        return 1.0 + value / entropy
    if form == "gain":
        return value + entropy
    raise ValueError(f"form must be one of {CORRECTIONS}, got {form!r}")


def normalized_nce(source_labels: Array, labels: Array) -> float:
    """NCE_norm = 1 + NCE / H(Y) = I(Y; Z) / H(Y), in [0, 1].

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> normalized_nce(labels, labels), normalized_nce(np.zeros(60, dtype=int), labels)
        (1.0, 0.0)
    """
    return correct_for_label_entropy(nce(source_labels, labels), label_entropy(labels), form="normalized")


def normalized_nce_from_probs(source_probs: Array, labels: Array) -> float:
    """``normalized_nce`` with the hard source labels ``source_probs.argmax(1)``.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> sharp = np.eye(3)[labels] * 0.8 + 0.2 / 3  # source predictions that follow the labels
        >>> flat = np.full((60, 3), 1 / 3)  # uninformative ones
        >>> round(normalized_nce_from_probs(sharp, labels), 4), round(normalized_nce_from_probs(flat, labels), 4)
        (1.0, 0.0)
    """
    return correct_for_label_entropy(nce_from_probs(source_probs, labels), label_entropy(labels), form="normalized")


def normalized_leep(source_probs: Array, labels: Array) -> float:
    """LEEP_norm = 1 + LEEP / H(Y); 0 when the source predictions carry no information on y.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> sharp = np.eye(3)[labels] * 0.8 + 0.2 / 3  # source predictions that follow the labels
        >>> flat = np.full((60, 3), 1 / 3)  # uninformative ones
        >>> round(normalized_leep(sharp, labels), 4), round(normalized_leep(0.5 * sharp + 0.5 * flat, labels), 4)
        (0.7502, 0.2527)
    """
    return correct_for_label_entropy(leep(source_probs, labels), label_entropy(labels), form="normalized")


def nce_gain(source_labels: Array, labels: Array) -> float:
    """NCE + H(Y) = I(Y; Z), the mutual information between labels and source predictions.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> round(nce_gain(labels, labels), 4), round(nce_gain(np.zeros(60, dtype=int), labels), 4)
        (1.0986, 0.0)
    """
    return correct_for_label_entropy(nce(source_labels, labels), label_entropy(labels), form="gain")


def leep_gain(source_probs: Array, labels: Array) -> float:
    """LEEP + H(Y): LEEP's improvement over an uninformative source.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> sharp = np.eye(3)[labels] * 0.8 + 0.2 / 3  # source predictions that follow the labels
        >>> flat = np.full((60, 3), 1 / 3)  # uninformative ones
        >>> round(leep_gain(sharp, labels), 4), round(leep_gain(0.5 * sharp + 0.5 * flat, labels), 4)
        (0.8242, 0.2776)
    """
    return correct_for_label_entropy(leep(source_probs, labels), label_entropy(labels), form="gain")
