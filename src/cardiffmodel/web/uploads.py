"""Uploads of monthly extracts: checked at once, ingested by one worker in the background.

The request that brings a file only saves it (privately, under ``uploads/<source>/``) and
checks what is cheap to check: the source is the organisation's, the file is within the
size and row limits and carries no NUL or other control characters. It then answers with
a job id, and a single worker thread ingests the files one after another: reading,
validating, scrubbing and placing the records with no lock held (readers go on seeing
the last complete batch), then taking the store's write lock only for the final
transaction. A file that is refused, already ingested or fails is deleted; a file that
was ingested stays, as the batch's record of what came in.

Messages never name a server path: every message names the file as the user sent it.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import zipfile
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cardiffmodel.ingest.pipeline import IngestResult, commit_batch, file_sha256, prepare_batch
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.store.private import PRIVATE
from cardiffmodel.web.accounts import User
from cardiffmodel.web.dashboard import Dashboard
from cardiffmodel.web.records import Records

UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024
# A month of one hospital is a few thousand rows and a force's published month under
# 100,000; a million rows took 1.8 GB and minutes to ingest.
UPLOAD_LIMIT_ROWS = 200_000
# An XLSX is a zip: its sheets may unpack to far more than the file's size.
XLSX_LIMIT_UNPACKED = 20 * UPLOAD_LIMIT_BYTES
JOBS_KEPT = 500
_CHUNK = 1 << 20
# C0 control characters and DEL, except tab, line feed and carriage return.
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_XLSX_CONTROL = re.compile(
    rb"_x00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])_|&#(?:x0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)
_XLSX_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")


class UploadError(ValueError):
    """An upload that cannot be ingested; the message says why (and names no server path)."""


@dataclass(frozen=True)
class Limits:
    """How large an upload may be, in bytes and in rows (lines of a CSV, rows of XLSX)."""

    bytes: int = UPLOAD_LIMIT_BYTES
    rows: int = UPLOAD_LIMIT_ROWS


@dataclass
class UploadJob:
    """One uploaded file on its way into the store.

    ``status`` is ``queued``, ``ingesting``, ``done`` (``result`` holds what was stored,
    or ``result["skipped"]`` why nothing was) or ``failed`` (``problem`` says why).
    """

    job_id: str
    organisation: str
    source: str
    file: str
    submitted_at: str
    status: str = "queued"
    finished_at: str | None = None
    result: dict | None = None
    quarantined: list[dict] = field(default_factory=list)
    problem: str | None = None

    def as_json(self) -> dict:
        found = asdict(self)
        found["status_url"] = f"/api/uploads/{self.job_id}"
        found["page_url"] = f"/upload/{self.job_id}"
        return found


def _safe_name(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name).lstrip(".") or "extract"


def _without_paths(text: str, path: Path, name: str) -> str:
    """A message with the server's path (and folder) of a file replaced by its user's name."""
    return text.replace(str(path), name).replace(str(path.parent) + "/", "")


class Uploads:
    """Saves and checks uploads, and ingests them one at a time in a worker thread."""

    def __init__(self, dashboard: Dashboard, records: Records, limits: Limits | None = None):
        self.dashboard = dashboard
        self.records = records
        self.limits = limits or Limits()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cardiff-upload")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, UploadJob] = OrderedDict()

    # ---- in the request ------------------------------------------------------------------

    def submit(self, user: User, source: str, filename: str, body: BinaryIO) -> UploadJob:
        """Save and check one file, then queue it; raises ``UploadError`` with the reason."""
        name = Path(filename or "extract").name
        allowed = self.records.source_names(user.sites)
        if source not in allowed:
            raise UploadError(
                f"source {source!r} is not one of your organisation's: "
                f"{', '.join(allowed) or 'none'}"
            )
        path = self._save(source, name, body)
        try:
            self._check(path, name, source)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        job = UploadJob(
            job_id=secrets.token_urlsafe(12),
            organisation=user.organisation,
            source=source,
            file=name,
            submitted_at=datetime.now().isoformat(timespec="seconds"),
        )
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > JOBS_KEPT:
                self._jobs.popitem(last=False)
            queued = replace(job)
        self._worker.submit(self._ingest, job, path, user.sites)
        return queued

    def _save(self, source: str, name: str, body: BinaryIO) -> Path:
        """Copy the upload to a new file only its owner can read, within the byte limit."""
        folder = self.dashboard.settings.root / "uploads" / source
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{datetime.now():%Y%m%dT%H%M%S%f}-{_safe_name(name)}"
        written = 0
        try:
            with open(path, "xb", opener=_private_open) as out:
                while chunk := body.read(_CHUNK):
                    written += len(chunk)
                    if written > self.limits.bytes:
                        raise UploadError(
                            f"{name}: larger than {self.limits.bytes // 2**20} MB allowed"
                        )
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if not written:
            path.unlink()
            raise UploadError(f"{name}: the file is empty")
        return path

    def _check(self, path: Path, name: str, source: str) -> None:
        config = self.dashboard.settings.source(source)
        if config.format == "xlsx":
            _check_xlsx(path, name, self.limits.rows)
        else:
            _check_text(path, name, self.limits.rows, config.encoding)

    # ---- in the worker -------------------------------------------------------------------

    def _ingest(self, job: UploadJob, path: Path, sites: frozenset[str]) -> None:
        self._update(job.job_id, status="ingesting")
        kept = False
        try:
            result = self._ingest_file(job.source, path)
            kept = result.skipped is None
            shown = _result_json(result, path, job.file)
            problems = self.records.quarantine(sites, result.batch_id)["rows"] if kept else []
            self._update(
                job.job_id, status="done", result=shown, quarantined=_named(problems, job.file)
            )
        except Exception as err:  # the job reports it; the worker goes on with the next file
            message = _without_paths(str(err), path, job.file)
            self._update(job.job_id, status="failed", problem=message or type(err).__name__)
        finally:
            if not kept:
                path.unlink(missing_ok=True)

    def _ingest_file(self, source: str, path: Path) -> IngestResult:
        project = self.dashboard.project
        sha = file_sha256(path)
        with self.dashboard.gate.reading() as cursor:
            found = cursor.execute(
                "SELECT batch_id FROM batches WHERE source = ? AND sha256 = ? "
                "AND status = 'ingested'",
                [source, sha],
            ).fetchall()
        if found:
            return IngestResult(source, str(path), skipped=f"already ingested as {found[0][0]}")
        try:
            # The slow part (reading, checks, identifiers, matching, areas) holds no lock.
            prepared = prepare_batch(
                project.settings, source, path, project.matcher, project.territory, sha256=sha
            )
        except FileRejected as err:
            return IngestResult(source, str(path), skipped=f"rejected: {err}")
        with self.dashboard.gate.writing(), project.store() as store:
            return commit_batch(store, prepared)

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            for key, value in changes.items():
                setattr(job, key, value)
            if changes.get("status") in ("done", "failed"):
                job.finished_at = datetime.now().isoformat(timespec="seconds")

    # ---- reading back ---------------------------------------------------------------------

    def job(self, job_id: str, user: User) -> UploadJob:
        """A job of the user's organisation; another's is as unknown as a made-up id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.organisation != user.organisation:
                raise FileNotFoundError(f"no upload {job_id}")
            return replace(job)

    def wait(self, timeout: float | None = None) -> None:
        """Return when every job queued so far has finished (for tests and shutdown)."""
        self._worker.submit(lambda: None).result(timeout)

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=False)


def _private_open(path: str, flags: int) -> int:
    return os.open(path, flags, PRIVATE)


def _result_json(result: IngestResult, path: Path, name: str) -> dict:
    found = asdict(result)
    found["file"] = name
    if found["skipped"]:
        found["skipped"] = _without_paths(found["skipped"], path, name)
    return found


def _named(rows: list[dict], name: str) -> list[dict]:
    return [{**r, "file": name} if "file" in r else r for r in rows]


def _check_text(path: Path, name: str, max_rows: int, encoding: str) -> None:
    """Refuse a delimited file with too many lines or with control characters."""
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    lines = 0
    with open(path, "rb") as handle:
        if wide:  # every character spans several bytes: look at the characters
            text = handle.read().decode(encoding, errors="replace")
            lines = text.count("\n")
            bad = next((i for i, c in enumerate(text) if c in _CONTROL.decode("latin-1")), None)
            if bad is not None:
                raise UploadError(_control_message(name, text.count("\n", 0, bad) + 1))
        else:
            while chunk := handle.read(_CHUNK):
                stripped = chunk.translate(None, _CONTROL)
                if len(stripped) != len(chunk):
                    at = next(i for i, b in enumerate(chunk) if b in _CONTROL)
                    raise UploadError(_control_message(name, lines + chunk.count(b"\n", 0, at) + 1))
                lines += chunk.count(b"\n")
                if lines > max_rows + 1:
                    break
    if lines > max_rows + 1:  # the header line comes on top of the rows
        raise UploadError(
            f"{name}: more than {max_rows:,} rows; split the extract (one month per file)"
        )


def _control_message(name: str, line: int) -> str:
    return (
        f"{name}, line {line}: a NUL or other control character; export the file again "
        "as plain CSV text"
    )


def _check_xlsx(path: Path, name: str, max_rows: int) -> None:
    """Refuse a workbook with too many rows (counted in its sheets without loading them),
    one that unpacks to too much, or one with control characters in its text."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UploadError(f"{name}: not an XLSX workbook (it is not a zip archive)") from err
    with book:
        members = book.infolist()
        if sum(m.file_size for m in members) > XLSX_LIMIT_UNPACKED:
            raise UploadError(
                f"{name}: unpacks to more than {XLSX_LIMIT_UNPACKED // 2**20} MB; split the extract"
            )
        rows = 0
        for member in members:
            inner = member.filename
            if not inner.endswith(".xml") or not (
                inner.startswith("xl/worksheets/") or inner == "xl/sharedStrings.xml"
            ):
                continue
            sheet = inner.startswith("xl/worksheets/")
            tail = b""
            with book.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    window = tail + chunk
                    if _XLSX_CONTROL.search(window):
                        raise UploadError(
                            f"{name}: a NUL or other control character in a cell; remove it "
                            "and save the workbook again"
                        )
                    if sheet:  # a row tag across two chunks is counted once
                        rows += len(_XLSX_ROW.findall(window)) - len(_XLSX_ROW.findall(tail))
                        if rows > max_rows + 1:
                            raise UploadError(
                                f"{name}: more than {max_rows:,} rows; split the extract "
                                "(one month per file)"
                            )
                    tail = window[-32:]
