"""``TrialStore``: finished trials in an embedded SQLite database that survives being killed.

Design (why it is safe to SIGKILL a sweep at any moment):

* The database runs in WAL mode with ``synchronous=FULL``; every finished trial is written in its own
  ``BEGIN IMMEDIATE ... COMMIT`` transaction, so a kill loses at most the trials still in flight and
  never leaves a half-written row.
* A trial's primary key is its stable key (:func:`gtransfer.studies.keys.trial_key`), so a trial can be
  in the store at most once. Recording a trial that is already stored as ``ok`` changes nothing;
  a ``failed`` row is replaced when the trial is retried and counts the attempts.
* Only the process that drives a sweep writes (workers return results to it); readers (reports) may
  run at the same time, and so may a second sweep on the same store: before a trial runs, its driver
  *claims* it (table ``claims``: key, owner, host, pid, expiry). A live claim of another driver is
  skipped; a claim whose driver is gone (its process no longer exists on this host, or its lease
  expired without renewal) is taken over, and the trial it names is the one that was running when
  that driver died (see :func:`gtransfer.studies.runner.run_sweep`). Recording a trial releases its
  claim in the same transaction.
* A sweep ends (and :meth:`TrialStore.close` ends) with a WAL checkpoint, so the ``.db`` file alone
  holds every result; until then the newest results may live only in ``<store>-wal``.

Tables: ``trials`` (key, kind, params, status, result, error, attempts, duration_s, worker,
finished_at), ``studies`` (name, spec) and ``study_trials`` (study, key): which trials a study
expanded to, so that a report can select one study from a store shared by several; ``claims``
(the trials some driver is running now).

Files: ``<store>`` (the database), ``<store>-wal`` (write-ahead log: committed transactions not yet
copied into the database) and ``<store>-shm`` (its index, shared by the processes that have the store
open). Copy or move a store only while no sweep runs on it, and copy all three files if ``-wal`` is
there. A store on read-only media (or opened with ``read_only=True``) can still be read and reported
on (it is opened ``immutable`` when its WAL is empty, as after every finished sweep, so it must not
change meanwhile); damaged database pages are a :class:`DamagedStoreError` naming the file.

Schema versions: 1 is the first; 2 spells image targets in the one target grammar
(``cifar10-test:k=3,ratio=4,max=100,seed=0`` instead of ``cifar10-test/k3/r4/n100/s0``). Opening a
version-1 store migrates it in one transaction: each trial whose params name an old-style target gets
the new spelling and the key that spelling gives (:func:`migrate_image_targets`), so a sweep of the
regenerated spec finds every finished trial.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from gtransfer.io.atomic import writable_folder
from gtransfer.io.canonical import canonical_json, canonicalize

__all__ = ["DamagedStoreError", "TrialRecord", "TrialStore", "SCHEMA_VERSION", "migrate_image_targets"]

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    duration_s REAL,
    worker TEXT,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_kind ON trials (kind, status);
CREATE TABLE IF NOT EXISTS studies (name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS study_trials (
    study TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (study, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    claimed_at REAL NOT NULL, expires_at REAL NOT NULL
);
"""


class DamagedStoreError(ValueError):
    """The store's file is damaged (SQLite reports malformed pages); the message names the file."""


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (not Linux): trust kill(0)
        return True
    return state not in ("Z", "X")


@dataclass(frozen=True)
class TrialRecord:
    """One stored trial. ``result`` is ``None`` for a failed trial, whose ``error`` says why."""

    key: str
    kind: str
    params: dict
    status: str
    result: dict | None
    error: str | None
    attempts: int
    duration_s: float | None
    worker: str | None
    finished_at: float


class TrialStore:
    """Finished trials of one or more sweeps, in the SQLite file ``path``.

    Args:
        path: the database file; created (with its folder) unless ``create`` is False.
        create: if False, a missing file raises ``FileNotFoundError`` (what a report wants).

    Raises:
        FileNotFoundError: ``create=False`` and ``path`` does not exist.
        ValueError: ``path`` exists but is not a gtransfer trial store (or has a newer schema).
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, read_only: bool | None = False) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create or read_only:
                raise FileNotFoundError(f"trial store {self.path} does not exist")
            writable_folder(self.path.parent, what="the folder of the trial store")
        elif self.path.is_dir():
            raise ValueError(f"trial store {self.path} is a directory, not an SQLite file")
        if read_only is None:  # auto: read-only when this process may not write the file or its folder
            read_only = not self._writable()
        try:
            if read_only:
                self._open_read_only()
            else:
                try:
                    self._open_writable()
                except sqlite3.OperationalError as exc:
                    # "unable to open database file": the -wal cannot be created (a read-only mount or folder)
                    if "readonly" not in str(exc) and self._writable():
                        raise
                    self._close_after_failed_open()
                    if create:  # a sweep: it must write
                        raise ValueError(
                            f"trial store {self.path} is read-only ({exc}); a sweep writes its store: make it "
                            "writable or copy it to a writable folder (reports read it as it is)"
                        ) from None
                    self._open_read_only()
        except (DamagedStoreError, ValueError):
            self._close_after_failed_open()
            raise
        except sqlite3.DatabaseError as exc:
            self._close_after_failed_open()
            if _is_damage(exc):
                raise self._damaged(exc) from None
            raise ValueError(f"{self.path} is not a gtransfer trial store: {exc}") from None

    def _writable(self) -> bool:
        """Whether this process may write the store and create its ``-wal`` beside it (False on a read-only mount)."""
        return os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)

    def _close_after_failed_open(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _open_writable(self) -> None:
        self.read_only = False
        self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=60000")
        self._check_pages()
        self._init_schema()

    def _open_read_only(self) -> None:
        """Open without writing a byte: ``immutable=1`` when the WAL is empty (after every finished sweep),
        else ``mode=ro``, which reads the WAL but needs to create ``-shm`` beside the store."""
        self.read_only = True
        uri = self.path.resolve().as_uri()
        wal = Path(f"{self.path}-wal")
        if not wal.exists() or wal.stat().st_size == 0:
            self._conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        else:
            try:
                self._conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
                self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                raise ValueError(
                    f"{self.path}: results not yet checkpointed into the database are in {wal.name}, and reading them "
                    f"read-only needs {self.path.name}-shm beside it ({exc}); copy the store with its -wal file to a "
                    "writable folder, or open it writable once"
                ) from None
        self._check_pages()
        tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "trials", "studies", "study_trials"} <= tables:
            raise ValueError(f"{self.path} is not a gtransfer trial store (tables: {sorted(tables)})")
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise ValueError(
                f"{self.path} has store schema {row[0] if row else None}, this gtransfer reads {SCHEMA_VERSION} "
                "read-only; open it once where it is writable to migrate it"
            )

    def _check_pages(self) -> None:
        """A cheap whole-file check (``PRAGMA quick_check``): damaged pages fail here, not mid-report."""
        problems = [row[0] for row in self._conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise self._damaged(problems[0])

    def _damaged(self, detail: object) -> DamagedStoreError:
        return DamagedStoreError(
            f"damaged store {self.path}: {str(detail).splitlines()[0]}; restore it from a copy, or move it away and "
            "rerun the sweep into a new store (finished trials can be salvaged with the sqlite3 shell's .recover)"
        )

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        """Run a query and fetch every row; damaged pages become a :class:`DamagedStoreError`."""
        try:
            return self._conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):
                raise self._damaged(exc) from None
            raise

    # -- set-up --------------------------------------------------------------------------------
    def _init_schema(self) -> None:
        with self._transaction():
            # executescript() would COMMIT on its own; run the statements inside this transaction
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            row = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                self._conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} has store schema {row[0]}, newer than this gtransfer ({SCHEMA_VERSION})"
                )
            elif int(row[0]) < SCHEMA_VERSION:
                migrate_image_targets(self._conn)
                self._conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))

    def _transaction(self):
        return _Transaction(self._conn)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and empty it, so the ``.db`` alone holds everything.

        Does nothing on a read-only store; a checkpoint blocked by a concurrent reader is left to SQLite.
        """
        if self.read_only:
            return
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:  # busy: another connection holds the log; it checkpoints later
            pass

    def close(self, *, checkpoint: bool = True) -> None:
        """Checkpoint the WAL (unless ``checkpoint`` is False) and close the connection (the data is already
        committed)."""
        try:
            if checkpoint:
                self.checkpoint()
        finally:
            self._conn.close()

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    def register_study(self, name: str, spec: dict, keys: Iterable[str]) -> None:
        """Record a study's spec and the keys of its trials, replacing an earlier version, in one transaction.

        Trials the study no longer expands to stay in the store (another study may share them) but
        leave the study's membership.
        """
        spec_text = canonical_json(spec)
        with self._transaction():
            self._conn.execute(
                "INSERT INTO studies (name, spec, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
                (name, spec_text, time.time()),
            )
            self._conn.execute("DELETE FROM study_trials WHERE study = ?", (name,))
            self._conn.executemany(
                "INSERT OR IGNORE INTO study_trials (study, key) VALUES (?, ?)", ((name, k) for k in keys)
            )

    def record(
        self,
        key: str,
        kind: str,
        params: dict,
        *,
        result: dict | None = None,
        error: str | None = None,
        duration_s: float | None = None,
        worker: str | None = None,
        owner: str | None = None,
    ) -> bool:
        """Store one finished trial in its own transaction; returns True if the store changed.

        Exactly one of ``result`` (a JSON-serialisable dict: success) and ``error`` (failure) is
        given. A trial already stored as ``ok`` is never overwritten (returns False). ``owner``'s
        claim on the trial (:meth:`claim`) is released in the same transaction.
        """
        if (result is None) == (error is None):
            raise ValueError("record() needs exactly one of result (success) and error (failure)")
        if result is not None and not isinstance(result, dict):
            raise ValueError(f"trial kind {kind!r} returned {type(result).__name__}; it must return a dict")
        status = "ok" if result is not None else "failed"
        result_text = (
            json.dumps(canonicalize(result, path="result", allow_nonfinite=True), sort_keys=True)
            if result is not None
            else None
        )
        with self._transaction():
            cursor = self._conn.execute(
                "INSERT INTO trials (key, kind, params, status, result, error, attempts, duration_s,"
                " worker, finished_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET status = excluded.status, result = excluded.result,"
                " error = excluded.error, attempts = trials.attempts + 1, duration_s = excluded.duration_s,"
                " worker = excluded.worker, finished_at = excluded.finished_at"
                " WHERE trials.status != 'ok'",
                (key, kind, canonical_json(params), status, result_text, error, duration_s, worker, time.time()),
            )
            if owner is not None:
                self._conn.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner))
            return cursor.rowcount > 0

    # -- claims (leases) -----------------------------------------------------------------------
    @staticmethod
    def new_owner() -> str:
        """A fresh owner name for :meth:`claim`: ``host:pid:random``."""
        return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"

    def claim(self, key: str, owner: str, lease_s: float) -> str | None:
        """Claim ``key`` for ``owner`` for ``lease_s`` seconds, in one transaction.

        Returns:
            None when another owner holds a live claim (skip the trial); ``"new"`` for a fresh claim;
            ``"stale"`` when the previous claim's driver is gone (dead process on this host, or an
            expired lease): the trial was running when that driver died; ``"ok"`` when the trial is
            stored as ``ok`` meanwhile (nothing is claimed: skip it).
        """
        now = time.time()
        host = socket.gethostname()
        with self._transaction():
            if self._conn.execute("SELECT 1 FROM trials WHERE key = ? AND status = 'ok'", (key,)).fetchone():
                return "ok"
            row = self._conn.execute("SELECT owner, host, pid, expires_at FROM claims WHERE key = ?", (key,)).fetchone()
            state = "new"
            if row is not None:
                other, other_host, other_pid, expires_at = row
                if other == owner:
                    state = "new"
                elif expires_at > now and not (other_host == host and not _pid_alive(int(other_pid))):
                    return None
                else:
                    state = "stale"
            self._conn.execute(
                "INSERT INTO claims (key, owner, host, pid, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
                " claimed_at = excluded.claimed_at, expires_at = excluded.expires_at",
                (key, owner, host, os.getpid(), now, now + lease_s),
            )
        return state

    def renew(self, owner: str, lease_s: float) -> int:
        """Extend every claim of ``owner`` to ``lease_s`` seconds from now; returns how many."""
        with self._transaction():
            return self._conn.execute(
                "UPDATE claims SET expires_at = ? WHERE owner = ?", (time.time() + lease_s, owner)
            ).rowcount

    def release(self, owner: str, *, keys: Iterable[str] | None = None) -> None:
        """Drop ``owner``'s claims (all of them, or those on ``keys``)."""
        with self._transaction():
            if keys is None:
                self._conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))
            else:
                self._conn.executemany("DELETE FROM claims WHERE key = ? AND owner = ?", ((k, owner) for k in keys))

    def claim_states(self, keys: Iterable[str]) -> dict[str, str]:
        """For each of ``keys`` with a claim: ``"live"`` (its driver runs) or ``"stale"`` (its driver is gone)."""
        wanted = set(keys)
        now, host = time.time(), socket.gethostname()
        states = {}
        for key, other_host, pid, expires_at in self._read("SELECT key, host, pid, expires_at FROM claims"):
            if key in wanted:
                gone = expires_at <= now or (other_host == host and not _pid_alive(int(pid)))
                states[key] = "stale" if gone else "live"
        return states

    def claims(self) -> dict[str, str]:
        """Key -> owner of every claim in the store (live or stale)."""
        return dict(self._read("SELECT key, owner FROM claims"))

    # -- reading -------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Keys of the trials stored as ``ok`` (the ones a resumed sweep skips)."""
        return {row[0] for row in self._read("SELECT key FROM trials WHERE status = 'ok'")}

    def get(self, key: str) -> TrialRecord | None:
        """The stored trial with this key, or None."""
        rows = self._read(f"SELECT {_COLUMNS} FROM trials t WHERE t.key = ?", (key,))
        return None if not rows else _to_record(rows[0])

    def records(
        self, *, kind: str | None = None, study: str | None = None, status: str | None = "ok"
    ) -> list[TrialRecord]:
        """Stored trials, optionally only one kind, one study's, one status (None: any), in key order.

        Raises:
            ValueError: ``study`` is not in the store, or a row is corrupt (names its key).
        """
        sql = f"SELECT {_COLUMNS} FROM trials t"
        args: list[Any] = []
        clauses = []
        if study is not None:
            if study not in self.studies():
                raise ValueError(f"study {study!r} is not in {self.path}; it holds {sorted(self.studies())}")
            sql += " JOIN study_trials s ON s.key = t.key AND s.study = ?"
            args.append(study)
        if kind is not None:
            clauses.append("t.kind = ?")
            args.append(kind)
        if status is not None:
            clauses.append("t.status = ?")
            args.append(status)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY t.key"
        return [_to_record(row) for row in self._read(sql, args)]

    def studies(self) -> dict[str, dict]:
        """Study name -> the spec it was registered with."""
        return {name: json.loads(spec) for name, spec in self._read("SELECT name, spec FROM studies")}

    def study_keys(self, study: str) -> set[str]:
        """Keys of the trials a study expanded to (finished or not)."""
        return {r[0] for r in self._read("SELECT key FROM study_trials WHERE study = ?", (study,))}

    def counts(self) -> dict[str, int]:
        """Number of stored trials per status."""
        return dict(self._read("SELECT status, COUNT(*) FROM trials GROUP BY status"))

    def __len__(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM trials")[0][0])


def _renamed_targets(value: Any) -> Any:
    """``value`` with every string in the image branch's old target grammar replaced by its new spelling."""
    from gtransfer.data.targets import legacy_image_target

    if isinstance(value, str):
        return legacy_image_target(value) or value
    if isinstance(value, list):
        return [_renamed_targets(item) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_targets(item) for key, item in value.items()}
    return value


def migrate_image_targets(conn: sqlite3.Connection) -> int:
    """Schema 1 -> 2 inside the caller's transaction: old-style image target names get the one grammar.

    A trial's params and key change together (its key is the hash of its params); study membership and
    study specs follow. When both spellings of a trial are stored, the ``ok`` row is kept.

    Returns:
        the number of trials renamed.
    """
    from gtransfer.studies.keys import trial_key

    renamed = 0
    for key, kind, params_text, status in conn.execute("SELECT key, kind, params, status FROM trials").fetchall():
        params = json.loads(params_text)
        new_params = _renamed_targets(params)
        if new_params == params:
            continue
        new_key = trial_key(kind, new_params)
        existing = conn.execute("SELECT status FROM trials WHERE key = ?", (new_key,)).fetchone()
        if existing is not None and (existing[0] == "ok" or status != "ok"):
            conn.execute("DELETE FROM trials WHERE key = ?", (key,))
        else:
            conn.execute("DELETE FROM trials WHERE key = ?", (new_key,))
            conn.execute(
                "UPDATE trials SET key = ?, params = ? WHERE key = ?", (new_key, canonical_json(new_params), key)
            )
        conn.execute("UPDATE OR IGNORE study_trials SET key = ? WHERE key = ?", (new_key, key))
        conn.execute("DELETE FROM study_trials WHERE key = ?", (key,))
        renamed += 1
    for name, spec_text in conn.execute("SELECT name, spec FROM studies").fetchall():
        spec = json.loads(spec_text)
        new_spec = _renamed_targets(spec)
        if new_spec != spec:
            conn.execute("UPDATE studies SET spec = ? WHERE name = ?", (canonical_json(new_spec), name))
    return renamed


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's words for damaged pages (as opposed to a busy or a foreign file)."""
    text = str(exc).lower()
    return "malformed" in text or "corrupt" in text or "disk i/o error" in text or isinstance(exc, sqlite3.DataError)


_COLUMNS = "t.key, t.kind, t.params, t.status, t.result, t.error, t.attempts, t.duration_s, t.worker, t.finished_at"


def _to_record(row: tuple) -> TrialRecord:
    key, kind, params, status, result, error, attempts, duration_s, worker, finished_at = row
    try:
        params_value = json.loads(params)
        result_value = json.loads(result) if result is not None else None
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"corrupt row for trial {key} in the trial store: {exc}") from None
    if status == "ok" and not isinstance(result_value, dict):
        raise ValueError(f"corrupt row for trial {key} in the trial store: status ok without a result dict")
    return TrialRecord(key, kind, params_value, status, result_value, error, attempts, duration_s, worker, finished_at)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
