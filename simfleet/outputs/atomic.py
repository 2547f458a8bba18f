"""Atomic file writing: every output goes to a temporary name beside its final one, then is renamed.

A run killed at any moment leaves either the complete previous file or the complete new one under
the final name, never half of one; leftovers carry a `.tmp-` prefix that readers ignore.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["temporary_path", "write_text", "write_json", "write_table", "StreamingParquet"]


def temporary_path(final: Path) -> Path:
    return final.with_name(f".tmp-{os.getpid()}-{final.name}")


def _commit(temporary: Path, final: Path) -> None:
    os.replace(temporary, final)


def write_text(final: Path, text: str) -> None:
    temporary = temporary_path(final)
    try:
        temporary.write_text(text, encoding="utf-8")
        _commit(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(final: Path, data: dict) -> None:
    write_text(final, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def write_table(final: Path, table: pa.Table) -> None:
    temporary = temporary_path(final)
    try:
        pq.write_table(table, temporary, compression="zstd")
        _commit(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


class StreamingParquet:
    """A Parquet file written in row groups as data arrives, committed at the end."""

    def __init__(self, final: Path, schema: pa.Schema):
        self.final = final
        self.temporary = temporary_path(final)
        self.writer = pq.ParquetWriter(self.temporary, schema, compression="zstd")
        self.schema = schema

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def commit(self) -> None:
        self.writer.close()
        _commit(self.temporary, self.final)

    def abort(self) -> None:
        self.writer.close()
        self.temporary.unlink(missing_ok=True)
