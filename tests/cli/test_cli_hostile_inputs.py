"""`gtransfer score` on what users and attackers hand it: pandas CSVs, one table for features and labels, task
names, damaged and hostile array files, and errors that used to escape as tracebacks (one message, a hint, exit 2)."""

from __future__ import annotations

import errno
import io
import json
import zipfile

import numpy as np
import pytest

from gtransfer.cli import main
from gtransfer.metrics import score_all

RNG = np.random.default_rng(0)
LABELS = np.repeat([0, 1, 2], 40)  # rows sorted by class: a row index alone separates them
FEATURES = RNG.standard_normal((120, 4))


def _score(args: list[str], capsys) -> tuple[int, dict, list[str]]:
    status = main(["score", *args, "--format", "json"])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if status == 0 else {}), captured.err.strip().splitlines()


def _truth(metrics: list[str], features: np.ndarray = FEATURES, labels: np.ndarray = LABELS) -> dict:
    return dict(score_all(features, labels, metrics=metrics))


def test_a_pandas_csv_with_its_row_index_is_read_without_the_index(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame(FEATURES).to_csv(tmp_path / "f.csv")  # pandas' defaults: header ",0,1,2,3" and the row index
    np.save(tmp_path / "y.npy", LABELS)
    status, scores, err = _score(["--features", str(tmp_path / "f.csv"), "--labels", str(tmp_path / "y.npy"),
                                  "--metrics", "h_score,linear_probe_accuracy"], capsys)
    assert status == 0
    assert scores == pytest.approx(_truth(["h_score", "linear_probe_accuracy"]), rel=1e-12)
    assert scores["linear_probe_accuracy"] < 0.6  # the index (which separates the sorted classes) is not a feature
    assert err == [f"features: read {tmp_path / 'f.csv'}: 120 rows, 4 column(s); header: yes; dropped an index column "
                   "(empty header cell, as pandas' to_csv writes the row index)"]


@pytest.mark.parametrize("write", ["index=False", "header=False"])
def test_numbered_headers_and_headerless_index_columns_are_recognised(tmp_path, capsys, write):
    import pandas as pd

    frame = pd.DataFrame(FEATURES)
    frame.to_csv(tmp_path / "f.csv", **({"index": False} if write == "index=False" else {"header": False}))
    np.save(tmp_path / "y.npy", LABELS)
    status, scores, err = _score(
        ["--features", str(tmp_path / "f.csv"), "--labels", str(tmp_path / "y.npy"), "--metrics", "h_score"], capsys
    )
    assert status == 0 and scores == pytest.approx(_truth(["h_score"]), rel=1e-12)
    expected = ("header: yes; index column: none" if write == "index=False"
                else "header: no; dropped an index column (it holds exactly 0..119)")
    assert err == [f"features: read {tmp_path / 'f.csv'}: 120 rows, 4 column(s); {expected}"]


def test_one_table_for_features_and_labels_leaves_the_label_column_out_of_the_features(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame(FEATURES, columns=list("abcd")).assign(label=LABELS).to_csv(tmp_path / "data.csv", index=False)
    status, scores, err = _score(
        [
            "--features",
            str(tmp_path / "data.csv"),
            "--labels",
            f"{tmp_path / 'data.csv'}:label",
            "--metrics",
            "h_score,linear_probe_accuracy",
        ],
        capsys,
    )
    assert status == 0
    assert scores == pytest.approx(
        _truth(["h_score", "linear_probe_accuracy"]), rel=1e-12
    )  # was 1.0: the label was a feature
    assert err == [
        f"features: read {tmp_path / 'data.csv'}: 120 rows, 4 column(s); header: yes; index column: none; "
        "dropped column(s) ['label']",
        f"labels: read {tmp_path / 'data.csv'}: 120 rows, 1 column(s); header: yes; index column: none; column 'label'",
    ]


def test_task_names_are_accepted_when_the_labels_file_names_its_columns(tmp_path, capsys):
    import pandas as pd

    np.save(tmp_path / "f.npy", FEATURES)
    tasks = pd.DataFrame({"NR-AR": LABELS % 2, "NR-AhR": (LABELS > 0).astype(int)})
    tasks.to_csv(tmp_path / "tasks.csv", index=False)
    by_name = _score(
        [
            "--features",
            str(tmp_path / "f.npy"),
            "--labels",
            str(tmp_path / "tasks.csv"),
            "--task",
            "NR-AhR",
            "--metrics",
            "logme",
        ],
        capsys,
    )
    assert by_name[0] == 0 and by_name[1] == pytest.approx(
        _truth(["logme"], labels=(LABELS > 0).astype(int)), rel=1e-12
    )
    status, _, err = _score(
        ["--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "tasks.csv"), "--task", "SR-MMP"], capsys
    )
    assert status == 2 and err[0].endswith("has no column 'SR-MMP'; its columns are ['NR-AR', 'NR-AhR']")
    np.save(tmp_path / "tasks.npy", tasks.to_numpy())
    status, _, err = _score(
        ["--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "tasks.npy"), "--task", "NR-AR"], capsys
    )
    assert status == 2 and err[0].endswith("is a .npy array, which names no tasks")


def test_a_metric_that_cannot_score_is_listed_under_the_table_with_its_reason(tmp_path, capsys):
    labels = np.arange(2000) % 40
    np.save(tmp_path / "f.npy", RNG.standard_normal((2000, 6)) + 0.2 * labels[:, None])
    np.save(tmp_path / "y.npy", labels)
    assert main(["score", "--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"),
                 "--metrics", "h_score,nleep,logme"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["h_score", "logme", "label_entropy"]
    assert lines[3].startswith("nleep: not scored: N-LEEP with 200 mixture components (5 per class) on 2000 samples")


def _npy_header(shape: tuple[int, ...]) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return out.getvalue()


def _hostile_files(folder) -> dict[str, tuple[str, str]]:
    """name -> (the file as given to --features, what the one-line error must say)."""
    import torch

    np.save(folder / "complex.npy", FEATURES.astype(complex))
    np.save(folder / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(folder / "dates.npy", np.array([["2020-01-01"] * 2] * 2, dtype="datetime64[D]"))
    torch.save(torch.randn(5, 3).to_sparse(), folder / "sparse.pt")
    torch.save(torch.randn(40, 3), folder / "whole.pt")
    (folder / "truncated.pt").write_bytes((folder / "whole.pt").read_bytes()[:300])
    np.savez_compressed(folder / "whole.npz", features=FEATURES)
    packed = (folder / "whole.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(packed[: len(packed) // 2])
    damaged = bytearray(packed)
    damaged[100:140] = bytes(40)
    (folder / "damaged.npz").write_bytes(bytes(damaged))
    (folder / "huge.npy").write_bytes(_npy_header((2**60,)) + bytes(64))  # claims 8 EiB
    with zipfile.ZipFile(folder / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("features.npy", "w", force_zip64=True) as member:
        member.write(_npy_header((2**26,)))  # 512 MiB of zeros, about 0.5 MB compressed
        for _ in range(32):
            member.write(bytes(2**24))
    (folder / "empty.npy").write_bytes(b"")
    return {
        "complex": ("complex.npy", "holds complex numbers (dtype complex128), not real numbers"),
        "text": ("text.npy", "holds text (dtype <U1), not real numbers"),
        "dates": ("dates.npy", "holds dates (dtype datetime64[D]), not real numbers"),
        "sparse": ("sparse.pt", "holds a sparse tensor (torch.sparse_coo); save it dense"),
        "truncated.pt": ("truncated.pt", "cannot be read with torch.load(weights_only=True)"),
        "truncated.npz": ("truncated.npz", "a zip archive (.npz) without its directory: truncated or damaged"),
        "damaged.npz": ("damaged.npz", "damaged .npz: Error -3 while decompressing data"),
        "huge.npy": (
            "huge.npy",
            "its header declares shape (1152921504606846976,) of float64 = 9,223,372,036,854,775,808 bytes, "
            "but 64 bytes follow the header: truncated or damaged",
        ),
        "bomb.npz": ("bomb.npz", "member 'features' declares 536,871,040 bytes uncompressed"),
        "empty.npy": ("empty.npy", "(an empty file)"),
    }


def test_hostile_and_damaged_array_files_are_one_line_errors(tmp_path, capsys):
    """Before: TypeError or MemoryError tracebacks (complex, text, dates, sparse), BadZipFile, zlib.error,
    MemoryError."""
    np.save(tmp_path / "y.npy", LABELS)
    cases = _hostile_files(tmp_path)
    for name, (file, message) in cases.items():
        status = main(["score", "--features", str(tmp_path / file), "--labels", str(tmp_path / "y.npy")])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2, name
        assert len(err) == 2 and err[0].startswith(f"gtransfer score: error: features file {tmp_path / file}"), (
            name,
            err,
        )
        assert message in err[0], (name, err[0])
        assert err[1].startswith("hint: "), name


def test_a_bfloat16_tensor_is_scored_as_float32(tmp_path, capsys):
    import torch

    features = torch.from_numpy(FEATURES).bfloat16()
    torch.save(features, tmp_path / "f.pt")
    np.save(tmp_path / "y.npy", LABELS)
    status, scores, _ = _score(
        ["--features", str(tmp_path / "f.pt"), "--labels", str(tmp_path / "y.npy"), "--metrics", "h_score"], capsys
    )
    assert status == 0 and scores == pytest.approx(_truth(["h_score"], features=features.float().numpy()), rel=1e-12)


@pytest.mark.parametrize(
    "error, shown, hint",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "[Errno 28] No space left on device", "disk full"),
        (
            PermissionError(errno.EACCES, "Permission denied", "/store"),
            "[Errno 13] Permission denied: '/store'",
            "you may read",
        ),
        (MemoryError(), "MemoryError", "larger than this machine's memory"),
        (EOFError("Ran out of input"), "Ran out of input", "truncated or damaged"),
        (
            zipfile.BadZipFile("File is not a zip file"),
            "a damaged zip or compressed file: File is not a zip file",
            "truncated or damaged",
        ),
        (TypeError("unsupported operand"), "unsupported operand", "--help"),
        (RuntimeError("boom"), "RuntimeError: boom", "rerun with --debug for the traceback"),
    ],
)
def test_every_error_is_one_message_and_a_hint_with_exit_status_2(monkeypatch, capsys, error, shown, hint):
    import gtransfer.cli.sweep as sweep

    def fail(args):
        raise error

    monkeypatch.setattr(sweep, "run_report_command", fail)
    status = main(["report", "--store", "r.db"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 2
    assert err[0] == f"gtransfer report: error: {shown}"
    assert err[1].startswith("hint: ") and hint in err[1]
    with pytest.raises(type(error)):
        main(["--debug", "report", "--store", "r.db"])  # --debug: the traceback
