"""The experiment's `[limits]` table: how much work one run may create before validation refuses it.

Part of the experiment schema (`simfleet.config.experiment`); `simfleet.run_limits` estimates
each quantity from a validated experiment and compares it with these caps, so that a run that
could not finish (hours of simulated traffic at an astronomical rate, a million instances, a
failure every microsecond) is refused by `validate` and before `run` starts, with a message that
names the setting to raise. The defaults are simfleet's choice: each sits about two orders of
magnitude above the largest shipped experiment, and well within what one machine simulates in
minutes. Raising one is always allowed; it only moves the refusal.
"""

from __future__ import annotations

from pydantic import Field, StrictInt

from simfleet.schema.quantities import Duration, Size, StrictModel

__all__ = ["LimitsSection"]


class LimitsSection(StrictModel):
    """Caps on the work one run creates (`[limits]`); each message that refuses a run names its key."""

    max_requests: StrictInt = Field(
        default=1_000_000_000, ge=1, le=10**12,
        description="open-loop requests the run is expected to simulate (rate × duration, plus bursts) and "
                    "replayed rows; closed-loop users wait for their answers, so the fleet bounds their requests")
    max_users: StrictInt = Field(default=100_000, ge=1, le=10**7,
                                 description="closed-loop users active at once, over all traffic entries")
    max_traffic_sources: StrictInt = Field(default=1_000, ge=1, le=10**6, description="[[traffic]] entries")
    max_instances: StrictInt = Field(
        default=10_000, ge=1, le=10**7,
        description="instances the fleet may hold at once: each variant's initial count, or the MaxCapacity of "
                    "its scalable target (or managed_instance_scaling) where that is larger, summed")
    max_instance_failures: StrictInt = Field(
        default=1_000_000, ge=1, le=10**9,
        description="instance failures expected over the run (instances × duration / mean_time_to_failure)")
    max_samples: StrictInt = Field(
        default=1_000_000_000, ge=1, le=10**12,
        description="samples of ConcurrentRequestsPerModel taken (instances × duration / "
                    "concurrency_sample_interval)")
    max_variants: StrictInt = Field(default=1_000, ge=1, le=10**6, description="production variants, all endpoints")
    max_models: StrictInt = Field(default=1_000_000, ge=1, le=10**8,
                                  description="models of multi-model populations, all variants")
    max_schedule_knots: StrictInt = Field(
        default=100_000, ge=1, le=10**8,
        description="knots of traffic schedules and bursts, all entries (each one is a control event)")
    max_copies: StrictInt = Field(
        default=10_000, ge=1, le=10**7,
        description="inference-component copies at their most, all components: each one's copy_count, or the "
                    "MaxCapacity of its DesiredCopyCount target where larger (copies that cannot be placed wait as "
                    "pending; placing copies costs the engine time growing with their number times the host's "
                    "instances)")
    max_trace_size: Size = Field(default=2 * 2**30, description="bytes of one replay trace file")
    max_memory: Size = Field(
        default=8 * 2**30, description="memory the requests of one invocation metric period may hold, at most: at the "
                                       "peak open-loop rate, or a replay's busiest period (a period's requests are "
                                       "kept until it closes, about 145 bytes each)")
    memory_warning: Size = Field(
        default=4 * 2**30, description="warn before a run whose requests of one invocation metric period, at the "
                                       "peak open-loop rate, would hold more memory than this (a period's requests "
                                       "are kept until it closes, about 145 bytes each)")
    slow_run_warning: Duration = Field(
        default=120.0, description="warn before a run whose estimated wall time is longer than this")
