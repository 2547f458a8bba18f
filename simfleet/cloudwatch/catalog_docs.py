"""`docs/metrics.md`: the metric catalog rendered as a Markdown page, grouped by capability.

Regenerate after editing `catalog.toml`: ``python -m simfleet.cloudwatch.catalog_docs > docs/metrics.md``
(a test fails while the page and the catalog differ).
"""

from __future__ import annotations

import sys

from simfleet.cloudwatch.catalog import AVAILABLE_CAPABILITIES, CAPABILITIES, DimensionSet, MetricSpec, metric_catalog

__all__ = ["catalog_markdown", "main"]

_PERIOD_TEXT = {
    "invocation": "60 s; the publish frequency with enhanced metrics on",
    "utilization": "MetricPublishFrequencyInSeconds (default 60 s)",
    "high-resolution": "10 s",
    "standard": "60 s",
}
_EMISSION_TEXT = {
    "request-counter": "each request emits 1",
    "request-normalized": "each request emits 1 / (instances or copies)",
    "request-indicator": "each request emits 1 or 0",
    "request-duration": "each request emits its duration",
    "event-duration": "each event (launch, load, download…) emits its duration",
    "event-counter": "each event emits 1",
    "instance-gauge": "each instance emits one value per period",
    "copy-gauge": "each IC copy emits one value per period",
    "endpoint-gauge": "the endpoint (or job) emits one value per period",
    "concurrency-gauge": "requests in the container, sampled within each 10 s period",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sets_cell(spec: MetricSpec, sets: tuple[DimensionSet, ...]) -> str:
    if not sets:
        return "—"
    out = []
    for item in sets:
        text = ", ".join(item.names)
        marks = []
        if item.capabilities != (spec.capability,):
            marks.append(", ".join(item.capabilities))
        if spec.available and not item.available:
            marks.append("not yet")
        out.append(text + (f" ({'; '.join(marks)})" if marks else ""))
    return "<br>".join(_cell(part) for part in out)


def catalog_markdown() -> str:
    """The catalog as the Markdown page `docs/metrics.md`, grouped by capability."""
    specs = metric_catalog()
    groups = {capability: [s for s in specs if s.capability == capability] for capability in CAPABILITIES}
    emitted = sum(spec.available for spec in specs)
    out = [
        "# Metric catalog",
        "",
        "<!-- Generated from simfleet/cloudwatch/catalog.toml; do not edit. Regenerate with",
        "     python -m simfleet.cloudwatch.catalog_docs > docs/metrics.md -->",
        "",
        "Every CloudWatch metric SageMaker documents for endpoints (reference `sagemaker-semantics.md` §1), "
        "one row per namespace and metric name. *Emitted* metrics are produced by simfleet today; "
        "*not yet* metrics belong to a capability simfleet does not have yet and are listed so that "
        "dashboards and alarms can be planned against the full set.",
        "",
        f"{len(specs)} metrics, {emitted} emitted.",
        "",
        "| Capability | Metrics | Status |",
        "|---|---|---|",
    ]
    for capability, members in groups.items():
        if members:
            status = "emitted" if capability in AVAILABLE_CAPABILITIES else "not yet"
            out.append(f"| {capability} | {len(members)} | {status} |")
    out += [
        "",
        "Columns: a unit or statistics list marked *(not stated)* is not given by AWS (the unit is then "
        "`None`, the statistics the five basic ones). Dimension sets are as documented; a set published by "
        "other capabilities than the metric's own names them in parentheses, and *not yet* marks a set "
        "of an emitted metric that simfleet does not publish yet. Enhanced dimensions are the sets "
        "added by `MetricsConfig.EnableEnhancedMetrics`.",
        "",
        "Emission rules: " + "; ".join(f"`{name}`: {text}" for name, text in _EMISSION_TEXT.items()) + ".",
        "",
        "Periods: " + "; ".join(f"`{name}`: {text}" for name, text in _PERIOD_TEXT.items()) + ".",
        "",
    ]
    for capability, members in groups.items():
        if not members:
            continue
        status = "emitted" if capability in AVAILABLE_CAPABILITIES else "not yet"
        out += [
            f"## {capability} ({status})",
            "",
            "| Namespace | Metric | Unit | Statistics | Dimensions | Enhanced dimensions | Emission | Period "
            "| Status | Description | Sources |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for spec in members:
            unit = spec.unit + ("" if spec.unit_documented else " (not stated)")
            statistics = ", ".join(spec.statistics) + ("" if spec.statistics_documented else " (not stated)")
            out.append("| " + " | ".join([
                f"`{spec.namespace}`", f"`{spec.name}`", unit, statistics,
                _sets_cell(spec, spec.dimension_sets), _sets_cell(spec, spec.enhanced_dimension_sets),
                spec.emission, spec.period, "emitted" if spec.available else "not yet",
                _cell(spec.description), " ".join(spec.sources),
            ]) + " |")
        noted = [spec for spec in members if spec.notes]
        if noted:
            out += ["", "Notes:", ""]
            out += [f"* `{spec.name}` (`{spec.namespace}`): {_cell(spec.notes)}" for spec in noted]
        out.append("")
    return "\n".join(out)


def main() -> None:
    """Print `docs/metrics.md` (``python -m simfleet.cloudwatch.catalog_docs > docs/metrics.md``)."""
    sys.stdout.write(catalog_markdown())


if __name__ == "__main__":
    main()
