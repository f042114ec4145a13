"""gtransfer.io.jsonlines: a file whose last line was cut mid-record resumes without losing or repeating a
finished record; damage before the last line is refused, not skipped."""

from __future__ import annotations

import json

import pytest

from gtransfer.io.jsonlines import TornLineWarning, append_record, read_records

RECORDS = [{"seed": 0, "auc": 0.71}, {"seed": 1, "auc": 0.69, "note": "é"}, {"seed": 2, "fold": None}]


def test_records_round_trip_in_order_and_a_missing_file_has_none(tmp_path):
    path = tmp_path / "sub" / "runs.jsonl"
    assert read_records(path) == []
    for record in RECORDS:
        append_record(path, record)
    assert read_records(path) == RECORDS
    assert path.read_text(encoding="utf-8").count("\n") == 3


@pytest.mark.parametrize("cut", [1, 7, 20])
def test_a_torn_final_line_is_ignored_with_a_count_and_cut_before_the_next_append(tmp_path, cut):
    path = tmp_path / "runs.jsonl"
    for record in RECORDS[:2]:
        append_record(path, record)
    finished = path.read_bytes()
    torn = (json.dumps(RECORDS[2]) + "\n").encode()[:cut]  # the third append, killed after `cut` bytes
    path.write_bytes(finished + torn)
    with pytest.warns(TornLineWarning, match=rf"1 torn final line \({cut} bytes\) ignored"):
        assert read_records(path) == RECORDS[:2]  # nothing finished is lost, the torn record is not read

    # the resume: what is done is skipped, the rest is appended once
    with pytest.warns(TornLineWarning):
        done = {r["seed"] for r in read_records(path)}
    for record in RECORDS:
        if record["seed"] not in done:
            append_record(path, record)
    assert path.read_bytes() == finished + (json.dumps(RECORDS[2]) + "\n").encode()  # the torn bytes are gone
    assert [r["seed"] for r in read_records(path)] == [0, 1, 2]  # no record lost or repeated, and no warning


def test_a_file_that_is_only_a_torn_line_resumes_from_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_bytes(b'{"seed": 0, "a')
    with pytest.warns(TornLineWarning, match=r"\(14 bytes\)"):
        assert read_records(path) == []
    append_record(path, RECORDS[0])
    assert path.read_text() == json.dumps(RECORDS[0]) + "\n"


def test_a_damaged_line_before_the_last_is_refused_with_its_number(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"seed": 0}\n{"seed": 1, "au\n{"seed": 2}\n')
    with pytest.raises(ValueError, match=r"runs.jsonl: line 2 is not JSON .*repair or remove that line"):
        read_records(path)
    path.write_text('{"seed": 0}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"line 2 is a JSON list, not a record"):
        read_records(path)


def test_only_a_record_of_json_values_is_appended(tmp_path):
    path = tmp_path / "runs.jsonl"
    with pytest.raises(TypeError, match="got list"):
        append_record(path, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        append_record(path, {"value": object()})
    assert not path.exists()  # nothing half-written
