import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gtransfer.studies.report import write_report
from gtransfer.studies.report.tables import ReportConfig, ground_truth, metric_scores
from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import parse_spec
from gtransfer.studies.store import TrialStore
from tests.study_helpers import probe_spec, write_embedding_study


@pytest.fixture(scope="module")
def study_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    write_embedding_study(folder, targets=("t1", "t2", "t3"))
    raw = probe_spec(name="fisher-vs-probe", seeds=[0, 1], l2=[0.1, 1.0], **{"import": "tests.study_helpers"})
    raw.pop("kind")
    raw["targets"] = ["t1", "t2", "t3"]
    raw["stages"] = [{"kind": "fisher_ratio", "seeds": [0], "grid": {}}, {"kind": "probe"}]
    raw["report"] = {"scores": "fisher_ratio", "truth": "probe", "n_boot": 200}
    spec = parse_spec(raw, base_dir=folder)
    path = folder / "results.db"
    with TrialStore(path) as store:
        run_sweep(spec, store, progress=False)
    return path


def test_ground_truth_is_best_over_hyperparameters_of_seed_means(study_store):
    with TrialStore(study_store) as store:
        truth = ground_truth(store, "fisher-vs-probe", ReportConfig({"truth": "probe"}))
        probes = pd.DataFrame([{**r.params, **r.result} for r in store.records(kind="probe")])
    row = truth[(truth["target"] == "t2") & (truth["encoder"] == "mid")].iloc[0]
    part = probes[(probes["target"] == "t2") & (probes["encoder"] == "mid")]
    assert row["test_accuracy"] == pytest.approx(part.groupby("l2")["test_accuracy"].mean().max(), abs=1e-12)
    relative = (part["test_accuracy"] - part["majority_accuracy"]) / (1 - part["majority_accuracy"])
    assert row["relative_accuracy"] == pytest.approx(relative.groupby(part["l2"]).mean().max(), abs=1e-12)
    assert row["truth_trials"] == 4


def test_report_writes_tables_and_plots_with_reference_correlations(study_store, tmp_path):
    paths = write_report(study_store, tmp_path)
    assert paths == [tmp_path / "fisher-vs-probe" / "report.md"]
    out = tmp_path / "fisher-vs-probe"
    text = paths[0].read_text()
    assert "Trials: 45 of 45 finished" in text  # 9 fisher_ratio + 3 targets x 3 encoders x 2 seeds x 2 l2
    data = pd.read_csv(out / "scores_and_truth.csv")
    per_group = pd.read_csv(out / "correlations_per_group.csv")
    for target, part in data.groupby("target"):
        row = per_group[
            (per_group["group"] == target)
            & (per_group["metric"] == "fisher_ratio")
            & (per_group["truth"] == "test_accuracy")
        ].iloc[0]
        assert row["spearman"] == pytest.approx(
            stats.spearmanr(part["fisher_ratio"], part["test_accuracy"])[0], abs=1e-12
        )
        assert row["pearson"] == pytest.approx(
            stats.pearsonr(part["fisher_ratio"], part["test_accuracy"])[0], abs=1e-12
        )
        assert row["spearman_low"] <= row["spearman"] + 1e-12 <= row["spearman_high"] + 2e-12 or np.isnan(
            row["spearman_low"]
        )
    aggregate = pd.read_csv(out / "correlations.csv")
    mean_spearman = per_group[(per_group["metric"] == "fisher_ratio") & (per_group["truth"] == "test_accuracy")][
        "spearman"
    ].mean()
    got = aggregate[(aggregate["metric"] == "fisher_ratio") & (aggregate["truth"] == "test_accuracy")]["spearman"].iloc[
        0
    ]
    assert got == pytest.approx(mean_spearman, abs=1e-12)
    # separation weak < mid < strong: the stand-in metric ranks the encoders as the probe does
    assert got == pytest.approx(1.0)
    for name in (
        "plots/scatter_fisher_ratio_test_accuracy.png",
        "plots/bars_spearman_test_accuracy.png",
        "trials_probe.csv",
    ):
        assert (out / name).stat().st_size > 1000
        assert f"]({name})" in text or name.startswith("trials_")
    assert (out / "plots/scatter_fisher_ratio_test_accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_corrections_are_derived_from_nce_leep_and_entropy(tmp_path):
    from gtransfer.studies.keys import trial_key

    with TrialStore(tmp_path / "r.db") as store:
        keys = []
        for encoder, nce, leep in (("a", -0.5, -0.7), ("b", -0.2, -0.4)):
            params = {"encoder": encoder, "target": "t", "seed": 0}
            key = trial_key("score", params)
            store.record(key, "score", params, result={"nce": nce, "leep": leep, "label_entropy": 0.8, "n": 10})
            keys.append(key)
        store.register_study("s", {"name": "s"}, keys)
        scores = metric_scores(store, "s", ReportConfig())
    b = scores[scores["encoder"] == "b"].iloc[0]
    assert b["nce_normalized"] == pytest.approx(1 - 0.2 / 0.8)
    assert b["leep_normalized"] == pytest.approx(1 - 0.4 / 0.8)
    assert b["nce_gain"] == pytest.approx(0.6) and b["leep_gain"] == pytest.approx(0.4)


def test_report_bad_inputs(tmp_path, study_store):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(tmp_path / "missing.db", tmp_path / "out")
    TrialStore(tmp_path / "empty.db").close()
    with pytest.raises(ValueError, match="holds no study"):
        write_report(tmp_path / "empty.db", tmp_path / "out")
    with pytest.raises(ValueError, match="study 'nope' is not in"):
        write_report(study_store, tmp_path / "out", study="nope")
    (tmp_path / "a_file").write_text("")
    from gtransfer.io.atomic import UnwritableFolderError

    with pytest.raises(UnwritableFolderError, match=r"the report folder .*a_file/out is not writable"):
        write_report(study_store, tmp_path / "a_file" / "out")
    with pytest.raises(ValueError, match="truth_aggregate"):
        ReportConfig({"truth_aggregate": "median"})


def test_a_metric_constant_within_a_group_ranks_nothing():
    from gtransfer.studies.report.tables import correlation_table

    data = pd.DataFrame({
        "target": ["t"] * 4,
        "encoder": list("abcd"),
        "h_score": [1.0, 1.0 + 1e-9, 1.0 - 2e-9, 1.0],  # saturated at C - 1, rounding noise only
        "logme": [0.1, 0.4, 0.2, 0.3],
        "test_accuracy": [0.5, 0.8, 0.6, 0.7],
    })
    table = correlation_table(
        data, ["h_score", "logme"], ReportConfig({"truth_metrics": ["test_accuracy"], "n_boot": 20})
    )
    h = table[table["metric"] == "h_score"].iloc[0]
    assert np.isnan(h["spearman"]) and h["note"] == "metric constant within the group"
    assert table[table["metric"] == "logme"].iloc[0]["spearman"] == pytest.approx(1.0)


def test_study_names_map_to_distinct_folders_inside_out(study_store, tmp_path):
    import shutil
    import warnings

    from gtransfer.io.names import safe_name

    path = tmp_path / "store" / "results.db"
    path.parent.mkdir()
    shutil.copy(study_store, path)
    names = ["exp/1", "exp_1", "exp 1", ".."]
    with TrialStore(path) as store:
        spec = store.studies()["fisher-vs-probe"]
        keys = store.study_keys("fisher-vs-probe")
        for name in names:  # few bootstrap draws: the folders are what is tested here
            store.register_study(name, {**spec, "name": name, "report": {**spec["report"], "n_boot": 5}}, keys)
    out = tmp_path / "reports" / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = [write_report(path, out, study=name)[0] for name in names]
    folders = [p.parent for p in paths]
    assert len(set(folders)) == len(names)  # one folder per study
    assert all(folder.parent == out for folder in folders)  # each directly inside out, none outside
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["out"]
    assert (
        safe_name("exp_1") == "exp_1" and safe_name("fisher-vs-probe") == "fisher-vs-probe"
    )  # plain names stay as they are
    assert (
        safe_name("exp/1").startswith("exp_1~")
        and safe_name("exp 1").startswith("exp_1~")
        and safe_name("exp/1") != safe_name("exp 1")
    )
    assert safe_name("..").startswith("name~") and "/" not in safe_name("../escape")
def _store_with(tmp_path, truth_kind: str, targets=("t",)):
    """Four encoders per target: logme ranks them as the truth does, h_score is constant, gbc picks 'c'."""
    from gtransfer.studies.keys import trial_key

    path = tmp_path / f"{truth_kind}.db"
    truth = {"a": 0.5, "b": 0.8, "c": 0.6, "d": 0.7}
    with TrialStore(path) as store:
        keys = []
        for target in targets:
            for encoder, value in truth.items():
                params = {"encoder": encoder, "target": target, "seed": 0}
                scores = {"logme": value / 10, "h_score": 1.0, "gbc": 1.0 if encoder == "c" else 0.0, "n": 10, "d": 20}
                for kind, result in (("score", scores), (truth_kind, {"test_roc_auc": value})):
                    key = trial_key(kind, params)
                    store.record(key, kind, params, result=result)
                    keys.append(key)
        failing = {"encoder": "e", "target": targets[0], "seed": 0}
        key = trial_key(truth_kind, failing)
        store.record(
            key,
            truth_kind,
            failing,
            error="MissingDataError: TU dataset X: no file found. Expected one of:\n  /r/tu/X\n"
            "Fix: put the files there",
        )
        keys.append(key)
        store.register_study(
            "s",
            {
                "name": "s",
                "report": {"scores": "score", "truth": truth_kind, "truth_metrics": ["test_roc_auc"], "n_boot": 50},
            },
            keys,
        )
    return path


def test_a_one_target_report_has_no_zero_width_interval_and_says_what_its_truth_is(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (report,) = write_report(_store_with(tmp_path, "graph_finetune"), tmp_path / "out")
    text = report.read_text()
    assert "## Metric scores against fine-tuned performance" in text
    assert "| logme | 1 | 1.00 [n/a (1 target)] | 1.00 [n/a (1 target)] |" in text
    assert "with one target the mean has no interval: n/a" in text
    assert "95% bootstrap" in text and "[1.00, 1.00]" not in text
    # the failed trial's whole error: its first line, then the rest (the paths tried, the fix)
    assert "- 1 x `MissingDataError: TU dataset X: no file found. Expected one of:`" in text
    assert "    /r/tu/X" in text and "  Fix: put the files there" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (probe_report,) = write_report(_store_with(tmp_path, "graph_probe"), tmp_path / "probe")
    probe_text = probe_report.read_text()
    assert "## Metric scores against linear-probe performance" in probe_text and "fine-tuned" not in probe_text


def test_the_pick_table_names_each_metrics_pick_against_the_true_best(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (report,) = write_report(_store_with(tmp_path, "graph_finetune", targets=("t", "u")), tmp_path / "out")
    picks = pd.read_csv(report.parent / "picks.csv")
    assert picks.to_dict(orient="records")[0] == {
        "target": "t", "best": "b (0.800)", "logme": "**best**", "h_score": "constant: no pick", "gbc": "c (0.600)",
    }
    assert "| t | b (0.800) | c (0.600) | constant: no pick | **best** |" in report.read_text()
    assert "[n/a (1 target)]" not in report.read_text()  # two targets: real intervals


def test_timing_plot_styles_stay_distinct_beyond_ten_lines():
    from gtransfer.studies.report.plots import line_styles

    styles = line_styles(15)
    assert len({(s["color"], s["marker"], s["linestyle"]) for s in styles}) == 15
    assert len({s["color"] for s in styles}) == 15  # tab20: a colour each, not 10 shared by 15
def test_the_report_names_the_source_of_every_nce_leep_column(tmp_path):
    from gtransfer.studies.keys import trial_key
    from gtransfer.studies.report.tables import SOURCE_COLUMNS, nce_leep_sources

    sources = {"zoo-a.pt": "source head: zoo-a.pt (trained on ENZYMES; multiclass, Z=6, softmax)",
               "zoo-b.pt": "source head: zoo-b.pt (trained on ENZYMES:k=3; multiclass, Z=3, softmax)",
               "random": "none: the encoder has no source head", "old": None}
    truth = {"zoo-a.pt": 0.9, "zoo-b.pt": 0.7, "random": 0.5, "old": 0.6}
    with TrialStore(tmp_path / "r.db") as store:
        keys = []
        for target in ("t1", "t2", "t3"):
            for i, (encoder, source) in enumerate(sources.items()):
                params = {"encoder": encoder, "target": target, "seed": 0}
                result = {
                    "nce": -1.0 + 0.1 * i,
                    "leep": -1.2 + 0.1 * i,
                    "logme": float(i),
                    "label_entropy": 0.8,
                    "n": 10,
                    "imbalance_ratio": 1.0 + i,
                }
                if source is not None:  # "old": a trial stored before sources were recorded
                    result["nce_leep_source"] = source
                keys.append(trial_key("score", params))
                store.record(keys[-1], "score", params, result=result)
                keys.append(trial_key("probe", params))
                store.record(
                    keys[-1],
                    "probe",
                    params,
                    result={"test_accuracy": truth[encoder] + 0.01 * i, "majority_accuracy": 0.5},
                )
        store.register_study("s", {"name": "s", "report": {"n_boot": 50}}, keys)
        table = nce_leep_sources(store, "s", ReportConfig())
    assert dict(zip(table["encoder"], table["source"].str.split(":").str[0])) == {
        "old": "not recorded", "random": "none", "zoo-a.pt": "source head", "zoo-b.pt": "source head"}
    assert set(table["trials"]) == {3}
    text = write_report(tmp_path / "r.db", tmp_path / "out")[0].read_text()
    assert "## Where NCE and LEEP come from" in text
    assert "| zoo-b.pt | source head: zoo-b.pt (trained on ENZYMES:k=3; multiclass, Z=3, softmax) | 3 |" in text
    summary = "none (1); not recorded (1); source head (2)"
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and line.split(" | ")[0][2:] in SOURCE_COLUMNS + ("logme",)
    ]
    assert rows and all((summary in row) == (not row.startswith("| logme")) for row in rows), rows
    # label metadata describes a target: a column of the joined table, never a metric row
    assert not any(line.startswith("| imbalance_ratio ") for line in text.splitlines())
    joined_table = pd.read_csv(tmp_path / "out" / "s" / "scores_and_truth.csv")
    assert sorted(set(joined_table["imbalance_ratio"])) == [1.0, 2.0, 3.0, 4.0]
def test_regression_truth_lower_is_better_in_every_measure(tmp_path):
    """RMSE as truth: the best setting is the lowest RMSE, and a metric that ranks the lowest-error encoder
    first gets Spearman +1, top-1 relative accuracy 1 and regret 0 (flipping a direction breaks all three)."""
    from gtransfer.studies.keys import trial_key

    rmse = {"a": (0.9, 1.5), "b": (0.5, 0.7), "c": (1.4, 1.1)}  # per encoder: RMSE at lr 1e-3 and 1e-2
    metric = {"a": 2.0, "b": 3.0, "c": 1.0}  # ranks b (best: 0.5), a (0.9), c (1.1) as the RMSE does
    with TrialStore(tmp_path / "r.db") as store:
        keys = []
        for encoder in rmse:
            params = {"encoder": encoder, "target": "ogbg-molesol", "seed": 0}
            key = trial_key("score", params)
            store.record(key, "score", params, result={"logme": metric[encoder], "n": 10})
            keys.append(key)
            for lr, value in zip((1e-3, 1e-2), rmse[encoder], strict=True):
                params = {"encoder": encoder, "target": "ogbg-molesol", "seed": 0, "lr": lr}
                key = trial_key("finetune", params)
                store.record(
                    key, "finetune", params, result={"metric": "rmse", "test_metric": value, "test_rmse": value}
                )
                keys.append(key)
        store.register_study("s", {"name": "s"}, keys)
        config = ReportConfig(
            {"scores": "score", "truth": "finetune", "truth_metrics": ["test_rmse", "test_metric"], "n_boot": 20}
        )
        truth = ground_truth(store, "s", config)
    assert dict(zip(truth["encoder"], truth["test_rmse"], strict=True)) == {"a": 0.9, "b": 0.5, "c": 1.1}
    assert not config.higher_is_better("test_metric") and not config.higher_is_better("test_rmse")
    from gtransfer.studies.report.tables import correlation_table, joined

    with TrialStore(tmp_path / "r.db") as store:
        data = joined(metric_scores(store, "s", config), truth, config)
    table = correlation_table(data, ["logme"], config)
    for truth_name in ("test_rmse", "test_metric"):
        row = table[table["truth"] == truth_name].iloc[0]
        assert row["spearman"] == pytest.approx(1.0) and row["kendall"] == pytest.approx(1.0)
        assert row["top1_relative_accuracy"] == pytest.approx(1.0) and row["regret"] == pytest.approx(0.0)
        assert not row["truth_higher_is_better"]


def test_truth_trials_mixing_directions_are_refused(tmp_path):
    from gtransfer.studies.keys import trial_key

    with TrialStore(tmp_path / "r.db") as store:
        keys = []
        for encoder, name in (("a", "rmse"), ("b", "rocauc")):
            params = {"encoder": encoder, "target": "t", "seed": 0}
            key = trial_key("finetune", params)
            store.record(key, "finetune", params, result={"metric": name, "test_metric": 0.5})
            keys.append(key)
        store.register_study("s", {"name": "s"}, keys)
        with pytest.raises(ValueError, match="mix metrics where higher is better and where lower is better"):
            ground_truth(store, "s", ReportConfig({"truth": "finetune", "truth_metrics": ["test_metric"]}))


def test_a_full_disk_midway_leaves_the_previous_report_whole(study_store, tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    first = write_report(study_store, tmp_path)[0]
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    real_write_text = Path.write_text

    def full_disk(self, text, *args, **kwargs):
        if self.name == "report.md":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_report(study_store, tmp_path)
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before and first.is_file()  # nothing half-written, no staging folder left
    with pytest.raises(OSError, match="No space left"):
        write_report(study_store, tmp_path / "fresh")
    assert not any((tmp_path / "fresh").iterdir())  # no partial folder of CSVs without report.md


def test_report_says_what_was_run_and_shows_its_progress(study_store, tmp_path, capsys):
    """report.md records the code version, when the trials finished and the spec the store holds (issue 27), and
    ``progress=True`` shows a bar over the report's parts on stderr."""
    import yaml

    from gtransfer.io.provenance import code_version
    from gtransfer.studies.store import TrialStore

    path = write_report(study_store, tmp_path / "out", progress=True)[0]
    text = path.read_text()
    assert "## What was run" in text and f"by gtransfer {code_version()}" in text
    with TrialStore(study_store, create=False) as store:
        (name, spec), = store.studies().items()
        finished = [r.finished_at for r in store.records(study=name)]
    import datetime

    first = datetime.datetime.fromtimestamp(min(finished), tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    assert f"trials finished {first} to " in text
    block = text.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert yaml.safe_load(block) == spec  # the spec itself, whole
    assert "report " in capsys.readouterr().err  # the bar (tqdm writes to stderr)
