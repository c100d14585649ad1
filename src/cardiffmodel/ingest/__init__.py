"""Ingest: partner extracts in, canonical incidents out, identifiers left behind."""

from cardiffmodel.ingest.corrections import ExportError, export_quarantine
from cardiffmodel.ingest.pipeline import (
    IngestResult,
    PreparedBatch,
    commit_batch,
    ingest_file,
    prepare_batch,
)
from cardiffmodel.ingest.readers import FileRejected

__all__ = [
    "ExportError",
    "FileRejected",
    "IngestResult",
    "PreparedBatch",
    "commit_batch",
    "export_quarantine",
    "ingest_file",
    "prepare_batch",
]
