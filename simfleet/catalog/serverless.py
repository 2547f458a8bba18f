"""Serverless Inference prices: on-demand compute per GB-second, data processed per GB, and the
Provisioned Concurrency prices where known.

Loaded from `serverless.toml` shipped beside this module (every price names its source and the
file's header says what could not be established), then overridden by an experiment's
`[serverless]` price keys (`simfleet.config.serverless.ServerlessSettings`). Feeds `fleet`, which
turns the per-GB-second prices into a serverless variant's per-second prices for its memory size.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, replace
from importlib import resources

from pydantic import Field

from simfleet.schema.quantities import StrictModel

__all__ = ["ServerlessPrices", "load_serverless_prices", "memory_gb", "MEMORY_MB_PER_GB", "DATA_BYTES_PER_GB"]

#: One GB of serverless memory is 1024 MB: AWS sizes memory "in 1 GB increments: 1024 MB, 2048 MB, ...,
#: 6144 MB" (API reference, ProductionVariantServerlessConfig). One GB of data is 2**30 bytes, as the
#: AWS serverless benchmarking toolkit computes it (`PROCESSING_COST = 0.016 / (1024**3)`).
MEMORY_MB_PER_GB = 1024
DATA_BYTES_PER_GB = 2**30


def memory_gb(memory_size_mb: float) -> float:
    """GB of memory billed for `memory_size_mb` (``MemorySizeInMB``): 2048 MB → 2.0."""
    return memory_size_mb / MEMORY_MB_PER_GB


@dataclass(frozen=True)
class ServerlessPrices:
    """USD prices of Serverless Inference; None where no price is established or given."""

    price_per_gb_second: float | None                      # on-demand compute, per GB of memory per second
    provisioned_price_per_gb_second: float | None          # a provisioned environment, per GB per second provisioned
    provisioned_inference_price_per_gb_second: float | None  # compute of requests served by a provisioned environment
    data_price_per_gb: float | None                        # data processed, IN and OUT each
    sources: tuple[tuple[str, str], ...] = ()              # (price name, where it comes from)

    def per_second(self, price_per_gb_second: float | None, memory_size_mb: float) -> float | None:
        """A per-GB-second price as USD per second at `memory_size_mb`: linear in memory."""
        return None if price_per_gb_second is None else price_per_gb_second * memory_gb(memory_size_mb)

    def with_overrides(self, overrides: dict[str, float | None], source: str) -> "ServerlessPrices":
        """The prices with each non-None value of `overrides` (keys are this class's price names) replacing
        the shipped one, its source saying it came from `source`."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        sources = tuple((k, s) for k, s in self.sources if k not in given) + tuple(
            (k, f"override in {source}") for k in given)
        return replace(self, **given, sources=sources)

    def source_of(self, name: str) -> str | None:
        return dict(self.sources).get(name)


class _Section(StrictModel):
    price_per_gb_second: float | None = Field(default=None, ge=0)
    price_per_gb: float | None = Field(default=None, ge=0)
    inference_price_per_gb_second: float | None = Field(default=None, ge=0)
    price_source: str


class _PriceFile(StrictModel):
    meta: dict
    on_demand: _Section
    data: _Section
    provisioned: _Section


@functools.lru_cache(maxsize=1)
def load_serverless_prices() -> ServerlessPrices:
    """`serverless.toml`, parsed and validated once per process."""
    path = resources.files(__package__) / "serverless.toml"
    data = _PriceFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    if data.meta.get("memory_gb_mb") != MEMORY_MB_PER_GB or data.meta.get("data_gb_bytes") != DATA_BYTES_PER_GB:
        raise ValueError("serverless.toml: its GB conventions differ from simfleet.catalog.serverless")
    return ServerlessPrices(
        price_per_gb_second=data.on_demand.price_per_gb_second,
        provisioned_price_per_gb_second=data.provisioned.price_per_gb_second,
        provisioned_inference_price_per_gb_second=data.provisioned.inference_price_per_gb_second,
        data_price_per_gb=data.data.price_per_gb,
        sources=(("price_per_gb_second", data.on_demand.price_source),
                 ("provisioned_price_per_gb_second", data.provisioned.price_source),
                 ("provisioned_inference_price_per_gb_second", data.provisioned.price_source),
                 ("data_price_per_gb", data.data.price_source)),
    )
