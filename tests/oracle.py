"""The naive reference model: one SimPy process per request, obviously correct and slow.

Same inputs as the compiled dispatch kernel (arrival times, variants, service times, payloads,
routing draws, model-error flags) and the same outputs, computed the plainest way: each instance
is a `simpy.Resource` with one slot per worker and a FIFO queue, each request a process that
picks an instance, waits for a slot and holds it for its service time. Differential tests
demand identical results from the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from simfleet.engine.kernels.dispatch import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, PAYLOAD_TOO_LARGE,
                                              QUEUE_FULL, ROUTING_RANDOM)


@dataclass
class NaiveInstance:
    variant: int
    workers: int
    queue_limit: int


def naive_dispatch(instances: list[NaiveInstance], strategies: list[int], times, variants, services, payloads,
                   us, model_errors, max_payload: float, timeout: float):
    """Returns (instance, start, complete, status, active) arrays, like `dispatch_batch`."""
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=inst.workers) for inst in instances]
    n = len(times)
    out_instance = np.full(n, -1, np.int32)
    out_start = np.array(times, dtype=np.float64)
    out_complete = np.array(times, dtype=np.float64)
    out_status = np.zeros(n, np.int8)
    out_active = np.zeros(n, np.int32)
    members = [[i for i, inst in enumerate(instances) if inst.variant == v] for v in range(len(strategies))]

    def outstanding(i: int) -> int:
        return len(resources[i].users) + len(resources[i].queue)

    def request(k: int):
        v = int(variants[k])
        out_active[k] = len(members[v])
        if payloads[k] > max_payload:
            out_status[k] = PAYLOAD_TOO_LARGE
            return
        if not members[v]:
            out_status[k] = NO_CAPACITY
            return
        if strategies[v] == ROUTING_RANDOM:
            chosen = members[v][min(int(us[k] * len(members[v])), len(members[v]) - 1)]
        else:
            best = min(outstanding(i) for i in members[v])
            tied = [i for i in members[v] if outstanding(i) == best]
            chosen = tied[min(int(us[k] * len(tied)), len(tied) - 1)]
        out_instance[k] = chosen
        resource = resources[chosen]
        if resource.count == resource.capacity and len(resource.queue) >= instances[chosen].queue_limit:
            out_status[k] = QUEUE_FULL
            return
        with resource.request() as slot:
            yield slot
            out_start[k] = env.now
            yield env.timeout(services[k])
            out_complete[k] = env.now
        if out_complete[k] - times[k] > timeout:
            out_status[k] = MODEL_TIMEOUT
        elif model_errors[k]:
            out_status[k] = MODEL_ERROR
        else:
            out_status[k] = OK

    def arrivals():
        for k in range(n):
            yield env.timeout(times[k] - env.now)
            env.process(request(k))

    env.process(arrivals())
    env.run()
    return out_instance, out_start, out_complete, out_status, out_active
