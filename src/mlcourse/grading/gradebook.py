"""The SQLite gradebook: one row per submission and one per (submission, exercise).

A submission is written in a single transaction, so a batch killed at any moment (even by
SIGKILL) leaves either the whole submission or nothing; the next run skips every key already
present. The key hashes the student id, file name, content hash, notebook, grader version and
a fingerprint of the seed (the seed itself is never stored).

Example
-------
>>> gb = Gradebook(Path("grades/gradebook.sqlite"))  # doctest: +SKIP
>>> gb.has("3f2a...")  # doctest: +SKIP
False
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY,
    student_id TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    notebook TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed_hash TEXT NOT NULL,
    isolation TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    key TEXT NOT NULL REFERENCES submissions(key),
    position INTEGER NOT NULL,
    exercise_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    points REAL NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (key, exercise_id)
);
CREATE TABLE IF NOT EXISTS identities (
    key TEXT PRIMARY KEY REFERENCES submissions(key),
    lms TEXT NOT NULL,
    lms_id TEXT NOT NULL,
    name TEXT NOT NULL,
    late INTEGER NOT NULL,
    submission_id INTEGER,
    superseded_by TEXT
);
"""


def seed_fingerprint(seed: int) -> str:
    """A fingerprint of the secret seed that identifies it without storing it."""
    return hashlib.sha256(f"mlcourse-grading-seed:{seed}".encode()).hexdigest()[:16]


def submission_key(
    student_id: str, source: str, content_hash: str, notebook: str, version: str, seed_hash: str
) -> str:
    text = "\0".join([student_id, source, content_hash, notebook, version, seed_hash])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ExerciseRow:
    exercise_id: str
    title: str
    status: str
    score: float  # points earned
    points: float  # points available
    message: str


@dataclass(frozen=True)
class IdentityRow:
    """Who submitted a file according to the LMS export's names (table ``identities``)."""

    lms: str  # "canvas" | "moodle"
    lms_id: str
    name: str
    late: bool
    submission_id: int | None = None
    superseded_by: str | None = None  # the source of the newer submission that was graded


@dataclass(frozen=True)
class SubmissionRow:
    key: str
    student_id: str
    source: str
    content_hash: str
    notebook: str
    grader_version: str
    seed_hash: str
    isolation: str
    status: str
    detail: str
    score: float
    max_score: float
    seconds: float
    graded_at: str


class Gradebook:
    """Thin wrapper over :mod:`sqlite3`; used from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        if new:
            os.chmod(self.path, 0o600)  # student code (another uid) can neither read nor write it
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.executescript(SCHEMA)

    def has(self, key: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM submissions WHERE key = ?", (key,)).fetchone()
        return row is not None

    def write(
        self, sub: SubmissionRow, exercises: list[ExerciseRow], identity: IdentityRow | None = None
    ) -> bool:
        """Write one submission, its exercise rows and its LMS identity atomically; ``False``
        if already there."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            if cur.execute("SELECT 1 FROM submissions WHERE key = ?", (sub.key,)).fetchone():
                cur.execute("ROLLBACK")
                return False
            cur.execute(
                "INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sub.key, sub.student_id, sub.source, sub.content_hash, sub.notebook,
                    sub.grader_version, sub.seed_hash, sub.isolation, sub.status, sub.detail,
                    sub.score, sub.max_score, sub.seconds, sub.graded_at,
                ),
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?)",
                [
                    (sub.key, i, e.exercise_id, e.title, e.status, e.score, e.points, e.message)
                    for i, e in enumerate(exercises)
                ],
            )
            if identity is not None:
                cur.execute(
                    "INSERT INTO identities VALUES (?,?,?,?,?,?,?)",
                    (
                        sub.key, identity.lms, identity.lms_id, identity.name, int(identity.late),
                        identity.submission_id, identity.superseded_by,
                    ),
                )  # fmt: skip
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return True

    def submission(self, key: str) -> SubmissionRow | None:
        row = self.conn.execute("SELECT * FROM submissions WHERE key = ?", (key,)).fetchone()
        return SubmissionRow(*row) if row else None

    def exercises(self, key: str) -> list[ExerciseRow]:
        rows = self.conn.execute(
            "SELECT exercise_id, title, status, score, points, message FROM results "
            "WHERE key = ? ORDER BY position",
            (key,),
        ).fetchall()
        return [ExerciseRow(*r) for r in rows]

    def identity(self, key: str) -> IdentityRow | None:
        """The LMS identity of a submission (``None`` for plain folders and files)."""
        row = self.conn.execute(
            "SELECT lms, lms_id, name, late, submission_id, superseded_by FROM identities "
            "WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return IdentityRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5])

    def all_submissions(self) -> list[SubmissionRow]:
        rows = self.conn.execute("SELECT * FROM submissions ORDER BY student_id, source").fetchall()
        return [SubmissionRow(*r) for r in rows]

    def counts(self) -> dict[str, Any]:
        subs = self.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        res = self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return {"submissions": subs, "results": res}

    def close(self) -> None:
        self.conn.close()
