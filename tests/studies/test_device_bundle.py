"""The device bundle (studies/designs/device_bundle.py): what the full truth reads, a BBBP bundle built from the
embedded datasets/ that loads with RDKit and OGB blocked (and does not without its cache), the results a device run
brings back and restores, and the sizes against the device tool's budget."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gtransfer.studies.designs import device_bundle as db


@pytest.fixture(scope="module")
def bbbp_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of the full preset's BBBP only: its raw CSV is in datasets/, so the bundle holds its cache alone."""
    out = tmp_path_factory.mktemp("bundle") / "bundle"
    db.build_bundle(preset="full", out=out, datasets=["ogbg-molbbbp"], progress=False)
    return out


def test_the_full_truth_reads_six_molecule_datasets_in_hu2020_features_and_five_tu_datasets():
    inputs = db.preset_inputs("full")
    assert inputs.molecules == {name: ("hu2020",) for name in ("ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox",
                                                               "ogbg-molsider", "ogbg-moltox21", "ogbg-moltoxcast")}
    assert inputs.tu == ("ENZYMES", "IMDB-MULTI", "PROTEINS", "NCI1", "IMDB-BINARY")
    assert db.preset_inputs("full", datasets=["NCI1"]).datasets == ("NCI1",)
    with pytest.raises(ValueError, match="does not read"):
        db.preset_inputs("full", datasets=["ogbg-molhiv"])


def test_a_bundle_loads_with_rdkit_and_ogb_blocked_and_fails_without_its_cache(bbbp_bundle, tmp_path):
    manifest = json.loads((bbbp_bundle / "manifest.json").read_text())
    entry = manifest["datasets"]["ogbg-molbbbp"]
    assert entry["raw"] == [] and entry["embedded"] == ["datasets/moleculenet/bbbp/raw/BBBP.csv"]
    assert entry["graphs"] == {"hu2020": 2039}
    assert sorted(p.name for p in bbbp_bundle.iterdir()) == ["manifest.json", "payload.tar.xz", "run.sh"]
    assert db.check_bundle(bbbp_bundle, work=tmp_path) == [
        "ogbg-molbbbp: {'hu2020': 2039} graphs from the bundle's cache, rdkit, ogb blocked"]
    # the same load without the bundle's cache has to featurise, which needs the blocked RDKit
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(db.BundleCheckError, match="rdkit"):
        db.check_unpacked(tmp_path, manifest)


def test_a_damaged_payload_is_refused(bbbp_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bbbp_bundle, copy)
    with open(copy / "payload.tar.xz", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ValueError, match="damaged or from another build"):
        db.unpack_bundle(copy, to=tmp_path / "work")


def test_run_script_checks_the_gpu_then_runs_the_truth_under_timeouts_and_collects():
    script = db.run_script("full", seconds=500, gpu_check_seconds=120)
    order = [script.index(step) for step in ("device_bundle.py unpack", "gtransfer.bench gpu-check",
                                             "experiments/truths.py --preset full", "device_bundle.py collect")]
    assert order == sorted(order)
    assert "LIMIT=${1:-500}" in script and "GPU_CHECK_SECONDS:-120" in script and "timeout -s INT" in script
    assert "GTRANSFER_DATA=$W/data GTRANSFER_CACHE=$W/cache" in script and "PYTHONUNBUFFERED=1" in script
    call = db.device_call(seconds=500)
    assert call == 'run(command="bash .devbundle/run.sh 500", carry=[".devbundle"], timeout_s=600)'


def test_collected_results_are_restored_from_resume_on_a_fresh_machine(bbbp_bundle, tmp_path):
    from gtransfer.studies.store import TrialStore

    work = tmp_path / "run"
    with TrialStore(work / "truths.db") as store:
        store.record("k" * 64, "probe", {"seed": 0}, result={"test_accuracy": 0.5})
    (work / "zoo").mkdir()
    (work / "zoo" / "enzymes-gin-source.pt").write_bytes(b"head")
    (work / "zoo" / "gin3x128_contextpred_moses.pt").write_bytes(b"shipped, not collected")
    (work / "truth-source-full.csv").write_text("dataset\n")
    written = db.collect_results(work, out=tmp_path / "out")
    assert sorted(p.name for p in written) == ["truth-source-full.csv", "truths.db", "zoo.tar"]
    bundle = tmp_path / "bundle"
    shutil.copytree(bbbp_bundle, bundle)
    shutil.copytree(tmp_path / "out", bundle / "resume")
    db.unpack_bundle(bundle, to=tmp_path / "device")
    restored = tmp_path / "device" / "truths-full"
    assert sorted(p.name for p in (restored / "zoo").iterdir()) == ["enzymes-gin-source.pt"]
    with TrialStore(restored / "truths.db", create=False, read_only=True) as store:
        assert [r.result for r in store.records()] == [{"test_accuracy": 0.5}]


def test_sizes_count_what_git_would_copy_and_the_carried_bundle(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("/.devbundle/\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "big.md").write_bytes(b"x" * 1000)
    (tmp_path / ".devbundle").mkdir()
    (tmp_path / ".devbundle" / "payload.tar.xz").write_bytes(b"y" * 300)
    sizes = db.transfer_sizes(tmp_path, carried=[".devbundle"])
    assert sizes == {"tree": 1000 + 13, "tree:docs": 1000, "tree:.": 13, ".devbundle": 300}
    lines = db.budget_lines(tmp_path)
    assert lines[-1].startswith("together 0.0 MiB of the device tool's 64.0 MiB: fits")
    monkeypatch.setattr(db, "TRANSFER_BUDGET", 1200)
    over = db.budget_lines(tmp_path)
    assert "OVER by" in over[2] and over[3].endswith(": docs 0.0 MiB")
