"""What a serverless variant costs over a run: prices (`ServerlessRuntime`) × billed quantities
(`metrics.serverless_totals`), for `summary.json`.

Reference §4 and §11.4 (pricing formula; the PC basis and PC prices are NOT ESTABLISHED):

* compute: billed milliseconds of on-demand environments × `price_per_second` / 1000 (the price
  for the configured memory size), and those of provisioned environments ×
  `provisioned_inference_price_per_second` / 1000;
* Provisioned Concurrency: provisioned environment-seconds (the provisioned level integrated over
  the run) × `provisioned_price_per_second` (the "memory configured × duration provisioned ×
  concurrency enabled" reading, with the memory inside the price);
* data processed, in and out: bytes / 2**30 (GB as the AWS benchmarking toolkit counts it,
  ``0.016 / 1024**3`` per byte) × `data_price_per_gb`.

A price that is not known (None) makes its term and the total NaN, and is named in `missing`;
a price the variant does not need (a Provisioned Concurrency price without any provisioned
environment) is never missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.fleet import ServerlessRuntime
from simfleet.metrics.serverless_totals import ServerlessVariantTotals

__all__ = ["ServerlessCost", "serverless_cost", "BYTES_PER_GB"]

BYTES_PER_GB = float(1 << 30)


@dataclass(frozen=True)
class ServerlessCost:
    """USD over the run, by term; NaN where a needed price is missing (named in `missing`)."""

    compute: float
    provisioned_compute: float
    provisioned_concurrency: float
    data: float
    missing: tuple[str, ...]   # names of the ServerlessRuntime prices that are needed and unknown

    @property
    def total(self) -> float:
        return self.compute + self.provisioned_compute + self.provisioned_concurrency + self.data


def _term(quantity: float, price: float | None, name: str, needed: bool, missing: list[str]) -> float:
    if not needed:
        return 0.0
    if price is None:
        missing.append(name)
        return math.nan
    return quantity * price


def serverless_cost(runtime: ServerlessRuntime, totals: ServerlessVariantTotals,
                    provisioned_seconds: float) -> ServerlessCost:
    """The cost of one serverless variant from its run totals and its provisioned environment-seconds."""
    missing: list[str] = []
    uses_provisioned = runtime.provisioned_concurrency > 0 or provisioned_seconds > 0 \
        or totals.provisioned_billed_ms > 0
    compute = _term(totals.billed_ms / 1000, runtime.price_per_second, "price_per_second", True, missing)
    provisioned_compute = _term(totals.provisioned_billed_ms / 1000, runtime.provisioned_inference_price_per_second,
                                "provisioned_inference_price_per_second", uses_provisioned, missing)
    provisioned = _term(provisioned_seconds, runtime.provisioned_price_per_second, "provisioned_price_per_second",
                        uses_provisioned, missing)
    data = _term(totals.data_bytes.value / BYTES_PER_GB, runtime.data_price_per_gb, "data_price_per_gb", True, missing)
    return ServerlessCost(compute, provisioned_compute, provisioned, data, tuple(missing))
