"""The calibration examples in `experiments/calibration/`: exports simulated from a known profile.

    python -m simfleet.calibration.examples experiments/calibration

runs `cloudwatch-source.toml` and exports what `aws cloudwatch get-metric-data` would print for
its variant (`cloudwatch-queries.json`, the queries; `cloudwatch-results.json`, the response:
ModelLatency p50/p90/p99, Invocations and InvocationsPerInstance per minute), and runs
`locust-source.toml` and writes the Locust CSVs its users would have written
(`locust_stats.csv`, `locust_stats_history.csv`, `locust_export`). Both runs are seeded: the same
files every time. The round-trip tests call the same functions on shortened runs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

__all__ = ["cloudwatch_queries", "cloudwatch_export", "locust_export", "write_examples"]

STATS = ("p50", "p90", "p99")


def cloudwatch_queries(endpoint: str, variant: str, period_s: int = 60) -> list[dict]:
    """get-metric-data queries for what calibrate reads, as a user would write them."""
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]

    def query(qid: str, metric: str, stat: str, unit: str | None = None) -> dict:
        stat_query = {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dimensions},
                      "Period": period_s, "Stat": stat}
        if unit is not None:
            stat_query["Unit"] = unit
        return {"Id": qid, "MetricStat": stat_query}
    return ([query(f"latency_{s}", "ModelLatency", s, "Microseconds") for s in STATS]
            + [query("invocations", "Invocations", "Sum"), query("per_instance", "InvocationsPerInstance", "Sum")])


def cloudwatch_export(experiment: Path, overrides: list[str] = ()) -> tuple[list[dict], dict]:
    """Run `experiment` and answer the queries of its first variant like get-metric-data."""
    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.query.run_metrics import RunMetrics
    from simfleet.scenario import load_experiment

    scenario = load_experiment(experiment, list(overrides))
    endpoint = scenario.experiment.endpoints[0]
    queries = cloudwatch_queries(endpoint.endpoint_name, endpoint.production_variants[0].variant_name)
    with tempfile.TemporaryDirectory(prefix="simfleet-example-") as folder:
        run_to_directory(scenario, Path(folder) / "run", requests=False)
        answer = RunMetrics.open(Path(folder) / "run").answer("GetMetricData", {"MetricDataQueries": queries})
        response = json.loads(_to_json(answer.response()))
    return queries, response


def _to_json(response: dict) -> str:
    from simfleet.query.responses import to_json

    return to_json(response)


def locust_export(experiment: Path, overrides: list[str] = ()) -> tuple[str, str]:
    """Run the closed-loop `experiment` and write what Locust would: (stats CSV, stats history CSV)."""
    from simfleet.calibration.locust_export import locust_history, locust_stats
    from simfleet.engine.simulation import simulate
    from simfleet.request_records import RequestRecords
    from simfleet.scenario import load_experiment

    scenario = load_experiment(experiment, list(overrides))
    parts: list = []
    result = simulate(scenario, requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    duration = float(result.summary["duration_s"])
    knots = scenario.experiment.traffic[0].knots()
    start = scenario.experiment.experiment.start_time
    return locust_stats(records, duration), locust_history(records, knots, start, duration)


def write_examples(folder: Path) -> list[Path]:
    from simfleet.outputs.atomic import write_text

    queries, response = cloudwatch_export(folder / "cloudwatch-source.toml")
    stats, history = locust_export(folder / "locust-source.toml")
    written = {"cloudwatch-queries.json": json.dumps(queries, indent=4) + "\n",
               "cloudwatch-results.json": json.dumps(response, indent=4) + "\n",
               "locust_stats.csv": stats, "locust_stats_history.csv": history}
    for name, text in written.items():
        write_text(folder / name, text)
    return [folder / name for name in written]


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for path in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/calibration")):
        print(f"wrote {path}")
