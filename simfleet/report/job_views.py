"""What an Inference Recommender job's page shows, as plain data: each load test's ramp and the
recommendations' cost against throughput.

The ramp is read minute by minute from each test's `metrics.parquet`, as the job judged it
(README "Inference Recommender jobs"; `recommender.load_test.MinuteWatch`): `NumberOfUsers`
(Maximum: the users at the end of the minute), `Invocations` Sum (for a serverless test minus
`Invocation4XXErrors`, its throttles), and the threshold's `ModelLatency` percentile (P95 or P99) in
ms, all at 60 s and on the variant. x is the end of each minute since the test started, so a stop
"in the minute ending at 780 s" sits at 13. The last minute carries a cross: where the test
stopped, with why on hover; a circle marks the start of the plateau the recommendation reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simfleet.report.job_data import JobData, LoadTest
from simfleet.report.plots import Guide, Series, XYPanel
from simfleet.report.views import Section

__all__ = ["job_sections", "ramp", "test_names"]


def test_names(job: JobData) -> dict[int, str]:
    """How the charts name each test: its configuration, with the test number where two share one."""
    counts: dict[str, int] = {}
    for test in job.tests:
        counts[test.configuration] = counts.get(test.configuration, 0) + 1
    return {t.index: t.configuration if counts[t.configuration] == 1 else f"{t.configuration} (test {t.index + 1})"
            for t in job.tests}


def _minute_values(test: LoadTest, metric: str, column: str) -> pd.Series:
    """The metric's 60 s variant-level `column`, indexed by the end of its minute (minutes since the start)."""
    m = test.run.metrics
    rows = m[m["metric_name"].eq(metric) & m["period_s"].eq(60) & m["EndpointName"].eq(test.endpoint_name)]
    if "InstanceId" in rows.columns:
        rows = rows[rows["InstanceId"].isna()]
    if column not in rows.columns or rows.empty:
        return pd.Series(dtype=float)
    start = test.run.start
    minutes = (pd.to_datetime(rows["timestamp"], utc=True) - start).dt.total_seconds().to_numpy() / 60.0 + 1.0
    return pd.Series(rows[column].to_numpy(dtype=float), index=minutes).groupby(level=0).sum().sort_index()


def ramp(job: JobData, test: LoadTest) -> pd.DataFrame:
    """The test's minutes (index: end of the minute, in minutes since it started): users, invocations
    (served: throttles taken out for serverless), and the latency percentile in ms."""
    if test.run is None:
        return pd.DataFrame(columns=["users", "invocations", "latency_ms"], dtype=float)
    invocations = _minute_values(test, "Invocations", "sum")
    if test.serverless:
        throttled = _minute_values(test, "Invocation4XXErrors", "sum")
        invocations = invocations.sub(throttled, fill_value=0.0)
    latency = _minute_values(test, "ModelLatency", job.percentile.lower()) / 1e3
    users = _minute_values(test, "NumberOfUsers", "maximum")
    frame = pd.concat({"users": users, "invocations": invocations, "latency_ms": latency}, axis=1).sort_index()
    return frame[frame.index <= test.run.duration_s / 60.0 + 1e-9]


def _stop_text(name: str, record: dict) -> str:
    reason = record.get("stop_reason") or record.get("failure_reason") or "ran to the end"
    return f"{name}: stopped by {record.get('stop_condition') or '?'}: {reason}"


def _ramp_panels(job: JobData) -> tuple[XYPanel, XYPanel, XYPanel]:
    names = test_names(job)
    users, invocations, latency = [], [], []
    for test in job.tests:
        frame = ramp(job, test)
        name = names[test.index]
        minutes = frame.index.to_numpy(dtype=float)
        for column, out in (("users", users), ("invocations", invocations), ("latency_ms", latency)):
            values = frame[column].to_numpy(dtype=float)
            keep = ~np.isnan(values)
            out.append(Series(name, name, minutes[keep], values[keep], kind="step" if column == "users" else "line",
                              dots=True))
        if len(frame):
            last = frame.iloc[-1]
            for column, out in (("invocations", invocations), ("latency_ms", latency)):
                if not np.isnan(last[column]):
                    out.append(Series(f"{name} stop", name, np.array([frame.index[-1]], float),
                                      np.array([last[column]], float), kind="points", marker="x", size=14,
                                      hover=(_stop_text(name, test.record),), legend=name))
            plateau_end = test.record.get("plateau_end_s")
            level = test.record.get("plateau_invocations_per_minute")
            if plateau_end is not None and level is not None:
                invocations.append(Series(f"{name} plateau", name, np.array([plateau_end / 60.0]), np.array([float(level)]),
                                          kind="points", marker="circle", size=11, legend=name,
                                          hover=(f"{name}: plateau of {level:,} invocations per minute from the minute "
                                                 f"ending at {plateau_end:g} s (the recommendation's MaxInvocations "
                                                 "per instance)",)))
    conditions = job.recommendations.get("StoppingConditions") or {}
    threshold = job.threshold
    percentile = job.percentile
    invocation_guides = ((Guide(f"StoppingConditions.MaxInvocations {conditions['MaxInvocations']:,}/min",
                                float(conditions["MaxInvocations"])),) if conditions.get("MaxInvocations") else ())
    latency_guides = ((Guide(f"ModelLatencyThresholds {percentile} {threshold['ValueInMilliseconds']:g} ms",
                             float(threshold["ValueInMilliseconds"])),) if threshold else ())
    never = "no load test of this job ran (none has a run directory)"
    return (
        XYPanel("job-users", "Users (NumberOfUsers, at the end of each minute)", "minutes since the test started",
                "users", tuple(users), note="The traffic pattern's closed-loop users of each load test.",
                empty_note=never, shared_x="ramp"),
        XYPanel("job-invocations", "Invocations per minute", "minutes since the test started", "invocations per minute",
                tuple(invocations), invocation_guides, shared_x="ramp", empty_note=never,
                note="Invocations Sum of each minute (serverless: throttles taken out). × where the test stopped "
                     "(hover: why), ○ where the plateau the recommendation reads starts; red: MaxInvocations."),
        XYPanel("job-latency", f"ModelLatency {percentile} against the threshold", "minutes since the test started",
                "milliseconds", tuple(latency), latency_guides, shared_x="ramp", empty_note=never,
                note=f"{percentile} of ModelLatency in each minute, as the job judged it; red: the threshold; "
                     "× where the test stopped."),
    )


def _cost_panel(job: JobData) -> XYPanel:
    names = test_names(job)
    series = []
    for rank, recommendation in enumerate(job.ranked, start=1):
        metrics = recommendation.get("Metrics") or {}
        if metrics.get("CostPerInference") is None or metrics.get("MaxInvocations") is None:
            continue
        test = job.test_of(recommendation)
        name = names[test.index] if test is not None else recommendation.get("EndpointConfiguration", {}).get(
            "InstanceType", "?")
        count = (recommendation.get("EndpointConfiguration") or {}).get("InitialInstanceCount")
        hover = (f"#{rank} {name}" + (f" ×{count}" if count else "")
                 + f": MaxInvocations {metrics['MaxInvocations']:,}/min, CostPerInference ${metrics['CostPerInference']:.4g}, "
                 f"CostPerHour ${metrics.get('CostPerHour', float('nan')):.4g}, ModelLatency "
                 f"{metrics.get('ModelLatency', float('nan')) / 1e3:.3g} ms")
        series.append(Series(name, name, np.array([float(metrics["MaxInvocations"])]),
                             np.array([float(metrics["CostPerInference"])]), kind="points",
                             marker="circle" if rank > 1 else "star", size=12 if rank > 1 else 20,
                             hover=(hover,), labels=(f"#{rank}",)))
    return XYPanel("job-cost", "Cost per inference against maximum invocations", "MaxInvocations (per minute, "
                   "at the recommended count)", "CostPerInference (USD)", tuple(series),
                   note="One point per recommendation, labelled with its rank (the star: the first); lower right is "
                        "cheaper per inference and carries more.",
                   empty_note="no recommendation: no load test of this job had a minute within the threshold "
                              "(see why below)")


def job_sections(job: JobData) -> list[Section]:
    users, invocations, latency = _ramp_panels(job)
    return [Section("Cost against throughput", (_cost_panel(job),)),
            Section("Load tests: the ramp", (users, invocations, latency))]
