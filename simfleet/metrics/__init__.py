"""Metrics: CloudWatch datapoints from simulated requests and instances (emission, aggregation, schema).

Between the engine, which hands it request records and instance state period by period, and the
outputs, which write what it produces; CloudWatch's own definitions (metric catalog, distributions,
statistics) are below it in `simfleet.cloudwatch` (DESIGN §2.2).
"""
