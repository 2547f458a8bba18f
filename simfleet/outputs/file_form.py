"""How a run's tables look on disk: provenance in the Parquet metadata, dictionary-encoded strings.

Between the engine's in-memory tables (plain strings, what `simfleet.simulate` returns and what
the reference-run hashes cover) and the files of a run directory: `file_table` adds the run's
provenance to the schema metadata (`simfleet.version`, `simfleet.config_hash`, `simfleet.seed`;
no wall-clock time, so the same experiment and seed give the same bytes) and turns the
low-cardinality string columns (namespaces, metric names, units, dimensions, event kinds,
outcomes) into Arrow dictionaries, which pandas reads as categoricals and DuckDB and polars as
strings. `plain_strings` turns them back, for readers that compare values as Python strings.
"""

from __future__ import annotations

import pyarrow as pa

from simfleet.metrics.schema import DIMENSIONS

__all__ = ["DICTIONARY_COLUMNS", "PROVENANCE_KEYS", "provenance", "file_table", "file_schema", "plain_strings"]

#: String columns with few distinct values, stored as dictionaries wherever they occur.
DICTIONARY_COLUMNS = frozenset({
    "namespace", "metric_name", "unit", *DIMENSIONS, "event",
    "status", "error_class", "environment", "model", "cache",
})
#: The schema-metadata keys every Parquet file of a run directory carries.
PROVENANCE_KEYS = (b"simfleet.version", b"simfleet.config_hash", b"simfleet.seed")


def provenance(scenario) -> dict[bytes, bytes]:
    """simfleet's version, the resolved experiment's SHA-256 (as in `manifest.json`) and the seed."""
    from simfleet.outputs.manifest import config_hash
    from simfleet.version import simfleet_version

    values = (simfleet_version() or "", config_hash(scenario), str(scenario.experiment.experiment.seed))
    return {key: value.encode() for key, value in zip(PROVENANCE_KEYS, values)}


def _dictionary(field: pa.Field) -> pa.Field:
    if field.name in DICTIONARY_COLUMNS and pa.types.is_string(field.type):
        return field.with_type(pa.dictionary(pa.int32(), pa.string()))
    return field


def file_schema(schema: pa.Schema, metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """`schema` as written: dictionary types for the low-cardinality strings, `metadata` added to its own."""
    merged = dict(schema.metadata or {})
    merged.update(metadata or {})
    return pa.schema([_dictionary(field) for field in schema], metadata=merged or None)


def file_table(table: pa.Table, metadata: dict[bytes, bytes] | None = None) -> pa.Table:
    """`table` in its file form (see the module docstring)."""
    return table.cast(file_schema(table.schema, metadata))


def plain_strings(table: pa.Table) -> pa.Table:
    """Dictionary-encoded string columns decoded back to plain strings (schema metadata kept)."""
    fields = [field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
              for field in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))
