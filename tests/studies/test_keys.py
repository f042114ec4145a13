import hashlib

import numpy as np
import pytest

from gtransfer.io.canonical import canonical_json
from gtransfer.studies.keys import trial_key


def test_key_is_sha256_of_hand_written_canonical_json():
    expected_text = '{"kind":"probe","params":{"a":1,"b":[1,2.5],"seed":0,"z":"x"}}'
    expected = hashlib.sha256(expected_text.encode("ascii")).hexdigest()
    assert trial_key("probe", {"z": "x", "seed": 0, "b": (1, 2.5), "a": 1}) == expected


def test_key_ignores_dict_order_and_numpy_types():
    plain = trial_key("k", {"seed": 3, "lr": 0.5, "grid": {"b": 1, "a": [1, 2]}})
    numpy_typed = trial_key(
        "k", {"grid": {"a": np.array([1, 2]), "b": np.int64(1)}, "lr": np.float64(0.5), "seed": np.int32(3)}
    )
    assert plain == numpy_typed


def test_key_distinguishes_kind_values_and_int_from_float():
    base = trial_key("k", {"seed": 0, "lr": 1})
    assert base != trial_key("other", {"seed": 0, "lr": 1})
    assert base != trial_key("k", {"seed": 1, "lr": 1})
    assert base != trial_key("k", {"seed": 0, "lr": 1.0})


def test_canonical_json_is_compact_and_sorted():
    assert canonical_json({"b": [1, {"d": None, "c": True}], "a": "é"}) == '{"a":"\\u00e9","b":[1,{"c":true,"d":null}]}'


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lr": float("nan")}, "params.lr"),
        ({"x": [1, float("inf")]}, r"params.x\[1\]"),
        ({1: 2}, "non-string key"),
        ({"f": object()}, "type object"),
    ],
)
def test_bad_params_name_the_problem(params, message):
    with pytest.raises(ValueError, match=message):
        trial_key("k", params)


def test_bad_kind_or_params_type():
    with pytest.raises(ValueError, match="non-empty string"):
        trial_key("", {})
    with pytest.raises(ValueError, match="must be a dict"):
        trial_key("k", [1])
