"""The simulated world's fixed description: endpoints, their production variants, and instances.

Built from a validated `Scenario`; the engine turns it into request-plane arrays. Variants are
numbered across the whole run (`VariantRuntime.index`), instances get per-run ids, never
`id(obj)` or class counters, so two runs in one process name things identically.
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.catalog import InstanceType
from simfleet.config.publish_periods import PublishPlan, publish_plan
from simfleet.profiles import ServiceEntry
from simfleet.request_records import ROUTING_LEAST_OUTSTANDING, ROUTING_RANDOM
from simfleet.scenario import Scenario

__all__ = ["VariantRuntime", "Fleet", "build_fleet", "instance_id"]

ROUTING_CODES = {"RANDOM": ROUTING_RANDOM, "LEAST_OUTSTANDING_REQUESTS": ROUTING_LEAST_OUTSTANDING}


@dataclass(frozen=True)
class VariantRuntime:
    index: int
    endpoint_index: int
    endpoint_name: str
    variant_name: str
    model_name: str
    instance_type: InstanceType
    entry: ServiceEntry
    routing: int
    weight: float
    model_error_rate: float
    model_error_status: int
    initial_instance_count: int
    plan: PublishPlan  # publish periods of its metrics


@dataclass(frozen=True)
class Fleet:
    endpoint_names: tuple[str, ...]
    variants: tuple[VariantRuntime, ...]

    def variants_of(self, endpoint_index: int) -> list[VariantRuntime]:
        return [v for v in self.variants if v.endpoint_index == endpoint_index]


def instance_id(number: int) -> str:
    """EC2-style id from a per-run counter: ``i-00000000000000001``."""
    return f"i-{number:017x}"


def build_fleet(scenario: Scenario) -> Fleet:
    variants = []
    for e_index, endpoint in enumerate(scenario.experiment.endpoints):
        for spec in endpoint.production_variants:
            instance = scenario.catalog[spec.instance_type]
            entry = scenario.profiles[spec.model_name].entry_for(instance, spec.workers)
            variants.append(VariantRuntime(
                index=len(variants),
                endpoint_index=e_index,
                endpoint_name=endpoint.endpoint_name,
                variant_name=spec.variant_name,
                model_name=spec.model_name,
                instance_type=instance,
                entry=entry,
                routing=ROUTING_CODES[spec.routing_config.routing_strategy],
                weight=spec.initial_variant_weight,
                model_error_rate=spec.model_error_rate,
                model_error_status=spec.model_error_status,
                initial_instance_count=spec.initial_instance_count,
                plan=publish_plan(scenario.experiment, endpoint),
            ))
    names = tuple(e.endpoint_name for e in scenario.experiment.endpoints)
    return Fleet(names, tuple(variants))
