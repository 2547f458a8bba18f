"""Outputs: the run directory (metrics, events, summary, manifest, optional request trace)."""
