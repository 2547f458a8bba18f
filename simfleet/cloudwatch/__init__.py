"""CloudWatch's own definitions, independent of any run: the metrics, their values, their statistics.

`catalog` (with `catalog.toml`) lists every metric SageMaker documents for endpoints, and
`catalog_docs` renders it as `docs/metrics.md`; `distribution` holds the values of one datapoint
(exact, or as an exponential histogram) so coarser periods can be recomputed; `statistics` parses
and evaluates CloudWatch statistics on them. Above the schema toolkit; below everything that
speaks CloudWatch: the autoscaling documents and watches (which check metric names and read
datapoints), the engine's autoscaler, the metrics the simulation publishes (`simfleet.metrics`)
and the queries over them (`simfleet.query`). Keeping these here, not in `simfleet.metrics`, is what
lets the autoscaling documents sit below the scenario assembly (DESIGN §2.2): the simulated
CloudWatch that the autoscaler reads is reached through the engine, not through an import.
"""
