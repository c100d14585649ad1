"""Real processes: one killed mid-file leaves the whole batch or nothing, and two ingests
at once into the same store both finish, one after the other, without doubling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cardiffmodel
from cardiffmodel.store.duckdb_store import Store
from ingest_support import ed_row, make_project, many_rows, write_csv

SRC = str(Path(cardiffmodel.__file__).resolve().parents[1])
INGEST = """
import dataclasses, json, sys
from pathlib import Path
from cardiffmodel.project import Project
results = Project.open(Path(sys.argv[1])).ingest("uhw", [Path(p) for p in sys.argv[2:]])
print(json.dumps([dataclasses.asdict(r) for r in results]))
"""


def _start(folder: Path, *files: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(folder), *map(str, files)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _counts(folder: Path) -> tuple[list[str], int, int, int]:
    with Store(folder / "cardiff.duckdb") as store:
        batches = [b["file"] for b in store.batches()]
        members = store.con.execute("SELECT count(*) FROM batch_members").fetchall()[0][0]
        quarantined = store.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        return batches, store.incident_count(), members, quarantined


def _has_open(pid: int, path: Path) -> bool:
    """Whether the process has the file open (Linux /proc)."""
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            if Path(os.readlink(fd)) == path:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def _kill_when(process: subprocess.Popen, ready) -> None:
    while not ready():
        assert process.poll() is None, "the ingest finished before it could be killed"
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def test_a_process_killed_mid_file_leaves_the_whole_batch_or_nothing(tmp_path, shared_data):
    folder = tmp_path / "p"
    project = make_project(folder, shared_data)
    small = write_csv(tmp_path / "small.csv", [ed_row("S1"), ed_row("S2", weapon="Spoon")])
    project.ingest("uhw", [small])
    big = many_rows(tmp_path / "big.csv", 100_000)
    wal = folder / "cardiff.duckdb.wal"
    assert not wal.exists()
    before = _counts(folder)
    # Killed while reading and checking the file, then while writing the batch.
    reading = _start(folder, big)
    _kill_when(reading, lambda: _has_open(reading.pid, big))
    assert _counts(folder) == before
    _kill_when(_start(folder, big), wal.exists)
    after = _counts(folder)
    assert after == before or after == ([*before[0], str(big)], 100_001, 100_001, 1)
    # Whatever was left, ingesting the file again ends with every row exactly once.
    (result,) = project.ingest("uhw", [big])
    assert _counts(folder) == ([*before[0], str(big)], 100_001, 100_001, 1)
    assert result.skipped or result.new == 100_000


def test_two_ingests_at_once_both_finish_without_doubling(tmp_path, shared_data):
    folder = tmp_path / "p"
    make_project(folder, shared_data)
    Store(folder / "cardiff.duckdb").close()
    first = many_rows(tmp_path / "first.csv", 10_000, prefix="F")
    second = many_rows(tmp_path / "second.csv", 10_000, prefix="G")
    overlap = many_rows(tmp_path / "overlap.csv", 8_000, prefix="F", start=5_000)
    runs = [_start(folder, first), _start(folder, second), _start(folder, overlap, first)]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        outputs.append(json.loads(out))
    results = [r for output in outputs for r in output]
    stored = [r for r in results if r["batch_id"]]
    skipped = [r for r in results if r["skipped"]]
    # first.csv came twice at once: stored by one process, skipped by the other.
    assert len(stored) == 3 and [r["file"] for r in skipped] == [str(first)]
    assert "already ingested" in skipped[0]["skipped"]
    batches, incidents, members, _ = _counts(folder)
    assert sorted(batches) == sorted(map(str, (first, second, overlap)))
    assert incidents == 10_000 + 10_000 + 3_000
    assert members == 10_000 + 10_000 + 8_000
    assert sum(r["new"] for r in stored) == incidents
