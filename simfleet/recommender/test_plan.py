"""Which load tests a job runs, with which users, and when each starts in the job's timeline.

Stage between the validated job (`job_file`) and the simulated tests (`load_test`):

* Advanced jobs: one test per `EndpointConfigurations` member [IRLOAD], or rather one per
  combination of its `EnvironmentParameterRanges` values (each categorical parameter lists the
  values to try), in the order written, at most `ResourceLimit.MaxNumberOfTests` of them.
* Default jobs (AWS picks the instance types itself and documents neither which nor how it
  loads them): the `EndpointConfigurations` when given, else `ContainerConfig.
  SupportedInstanceTypes`, else `default_candidates`; without a TrafficPattern each test ramps
  users as `SimfleetSettings.default_users_per_worker` and `default_ramp` say (`default_knots`).
* Serverless configurations (`ServerlessConfig` members) are planned like instance types, with
  the job's traffic pattern; a Default job without a pattern ramps its users as for an instance
  whose workers are the MaxConcurrency environments (Decision: each environment serves one
  request at a time, as a worker does).
* The timeline: tests run `MaxParallelOfTests` at a time (default 1) in the job's order, each
  taking the next free slot (`start_offsets`); a test that would start once `JobDurationInSeconds`
  has elapsed does not run. Decision: creating each test's endpoint takes no simulated time.

Decision (environment parameters): a model profile does not say how an environment variable
changes the model's speed, so every combination of one configuration simulates the same model;
their results differ only by sampling noise (each test has its own endpoint, whose name names
its random streams), and the parameters are reported back in each recommendation's
ModelConfiguration. A profile that modelled them would make them differ.

Decision (seeds): a test's seed derives from the job's `seed` and the test's endpoint name
(`rng.child_seed`), so appending a configuration changes no other test.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

from simfleet.catalog import Catalog
from simfleet.profiles import ModelProfile, fit_problems
from simfleet.recommender.job_file import RecommendationJob
from simfleet.recommender.results import endpoint_name
from simfleet.recommender.serverless_tests import ServerlessSetup
from simfleet.recommender.traffic_schedule import Segment, UserSchedule
from simfleet.rng import child_seed

__all__ = ["PlannedTest", "planned_tests", "default_candidates", "default_knots", "start_offsets",
           "DEFAULT_CANDIDATES_PER_FAMILY", "MAX_DEFAULT_CANDIDATES"]

#: A Default job tries the smallest sizes of each instance family the model runs on …
DEFAULT_CANDIDATES_PER_FAMILY = 2
#: … at most this many in all, cheapest first (EndpointConfigurations holds at most 10 [BOTO-SM]).
MAX_DEFAULT_CANDIDATES = 10


@dataclass(frozen=True)
class PlannedTest:
    """One load test of the job: what it tests and the users it runs, before its timing is known.

    `knots`: (seconds from the test's start, users from then on), ending with (pattern end, 0).
    """

    index: int
    instance_type: str | None
    knots: tuple[tuple[float, int], ...]
    seed: int
    inference_specification_name: str | None = None
    environment_parameters: tuple[tuple[str, str], ...] = ()
    serverless: ServerlessSetup | None = None

    @property
    def label(self) -> str:
        return self.serverless.label if self.serverless is not None else self.instance_type

    @property
    def pattern_s(self) -> float:
        return self.knots[-1][0]


def default_candidates(profile: ModelProfile, catalog: Catalog, supported: list[str] | None = None) -> list[str]:
    """The instance types a Default job load tests.

    `supported` (ContainerConfig.SupportedInstanceTypes) when given, in its order. Otherwise,
    among the catalog's priced types that the model runs on and fits (ml.t2 excluded [IRTS]),
    the `DEFAULT_CANDIDATES_PER_FAMILY` smallest of each family (by vCPUs, then price), then the
    `MAX_DEFAULT_CANDIDATES` cheapest of those (ties by name).
    """
    if supported:
        return list(supported)
    families: dict[str, list] = {}
    for instance in catalog.values():
        if instance.price_per_hour is None or instance.name.startswith("ml.t2."):
            continue
        entry = profile.entry_for(instance)
        if entry is None or fit_problems(entry, instance, profile.name):
            continue
        families.setdefault(instance.family, []).append(instance)
    chosen = [instance for members in families.values()
              for instance in sorted(members, key=lambda i: (i.vcpus, i.price_per_hour, i.name))
              [:DEFAULT_CANDIDATES_PER_FAMILY]]
    chosen.sort(key=lambda i: (i.price_per_hour, i.name))
    return [instance.name for instance in chosen[:MAX_DEFAULT_CANDIDATES]]


def default_knots(workers: int, users_per_worker: float, ramp_s: float) -> tuple[tuple[float, int], ...]:
    """A Default job's users on an instance with `workers` workers: they start at 1 and grow by one
    every ramp_s / N seconds to N = ceil(users_per_worker × workers) (at least 2), reached before
    the ramp ends, when the traffic stops."""
    target = max(2, math.ceil(users_per_worker * workers))
    return tuple(UserSchedule([Segment(0.0, float(ramp_s), 1, ramp_s / target, 1, target - 1)]).change_points())


def _combinations(ranges) -> list[tuple[tuple[str, str], ...]]:
    if ranges is None or not ranges.CategoricalParameterRanges:
        return [()]
    parameters = ranges.CategoricalParameterRanges
    return [tuple(zip((p.Name for p in parameters), values))
            for values in itertools.product(*(p.Value for p in parameters))]


def planned_tests(job: RecommendationJob, catalog: Catalog) -> list[PlannedTest]:
    """The job's load tests in order (see the module's Decisions), at most MaxNumberOfTests."""
    request, settings, profile = job.request, job.settings, job.profile
    config = request.InputConfig
    pattern = config.TrafficPattern
    configurations = [(c.InstanceType, _serverless(c.ServerlessConfig), c.InferenceSpecificationName,
                       c.EnvironmentParameterRanges) for c in config.EndpointConfigurations or ()]
    if not configurations:   # a Default job without configurations
        supported = config.ContainerConfig.SupportedInstanceTypes if config.ContainerConfig else None
        configurations = [(name, None, None, None) for name in default_candidates(profile, catalog, supported)]
    tests = []
    for instance_type, serverless, specification, ranges in configurations:
        if pattern is not None:
            knots = tuple(pattern.change_points())
        else:
            workers = (serverless.max_concurrency if serverless is not None
                       else profile.entry_for(catalog[instance_type]).workers)
            knots = default_knots(workers, settings.default_users_per_worker, settings.default_ramp)
        for parameters in _combinations(ranges):
            seed = child_seed(settings.seed, endpoint_name(request.JobName, len(tests)))
            tests.append(PlannedTest(len(tests), instance_type, knots, seed, specification, parameters, serverless))
    limit = config.ResourceLimit.MaxNumberOfTests if config.ResourceLimit else None
    return tests[:limit] if limit is not None else tests


def _serverless(config) -> ServerlessSetup | None:
    """The `ServerlessConfig` of an EndpointConfigurations member as a `ServerlessSetup` (None: an instance type)."""
    return None if config is None else ServerlessSetup(config.MemorySizeInMB, config.MaxConcurrency)


def start_offsets(lengths_s: list[float], parallel: int) -> list[float]:
    """When each test starts (seconds from the job's start) when `parallel` run at once, in order,
    each in the first slot to free up; `lengths_s[i]` is how long test i runs."""
    if parallel < 1:
        raise ValueError(f"parallel must be at least 1, got {parallel}")
    slots = [0.0] * parallel
    heapq.heapify(slots)
    offsets = []
    for length in lengths_s:
        start = heapq.heappop(slots)
        offsets.append(start)
        heapq.heappush(slots, start + length)
    return offsets
