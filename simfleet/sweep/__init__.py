"""Parameter sweeps: a sweep file expanded into runs, executed into one Parquet dataset."""

__all__ = []
