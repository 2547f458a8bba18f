"""Metrics: CloudWatch datapoints from simulated requests and instances (emission, statistics, schema)."""
