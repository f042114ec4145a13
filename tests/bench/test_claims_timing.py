"""``python -m gtransfer.bench claims-timing``: one row per d with both LogMEs' times over H_alpha's (no timing
is asserted: speed is for the benchmark, not the tests)."""

import json

import pytest

from gtransfer.cli.bench import main


def test_claims_timing_rows_and_ratios(tmp_path, capsys):
    out = tmp_path / "timing.json"
    assert main(["claims-timing", "--d", "16", "32", "--n-multiple", "3", "--classes", "3", "--repeat", "1",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [(row["n"], row["d"]) for row in rows] == [(48, 16), (96, 32)]
    for row in rows:
        assert row["logme_over_h_alpha"] == pytest.approx(row["logme_seconds"] / row["h_alpha_seconds"])
        assert row["published_logme_over_h_alpha"] == pytest.approx(
            row["published_logme_seconds"] / row["h_alpha_seconds"]
        )
    printed = capsys.readouterr().out
    assert "LogME (published algorithm)" in printed and "published s" in printed


def test_claims_timing_refuses_bad_sizes(capsys):
    assert main(["claims-timing", "--d", "16", "--n-multiple", "0"]) == 2
    assert "need n_multiple > 0" in capsys.readouterr().err
