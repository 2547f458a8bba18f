"""The naive reference models: one SimPy process per request or per user, obviously correct and slow.

`naive_dispatch` (open loop) takes the same inputs as the compiled dispatch kernel (arrival
times, variants, service times, payloads, routing draws, model-error flags) and gives the same
outputs, computed the plainest way: each instance is a `simpy.Resource` with one slot per worker
and a FIFO queue, each request a process that picks an instance, waits for a slot and holds it
for its service time. Differential tests demand identical results from the kernel.

`naive_closed_loop` is the same fleet driven by closed-loop users, one process per user that
sends, waits for its answer, thinks and sends again (the model of `kernels.closed_loop`); the
benchmark suite (`benchmarks/`) uses it as its closed-loop baseline and checks that it gives
simfleet's results request for request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from simfleet.request_records import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, PAYLOAD_TOO_LARGE,
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


def naive_closed_loop(instances: list[NaiveInstance], strategy: int, knots, duration: float, services, payloads,
                      us, model_errors, overheads, thinks, max_payload: float, timeout: float):
    """Closed-loop users of one variant served by `instances`, one SimPy process per user.

    `knots` is the users' step schedule [(time, users)]: added users send at once, removed
    users (the newest first) send nothing more. Send k (in time order) takes the k-th value of
    every per-send array; its user sends again at arrival + model latency + overhead + think
    time. Sends stop at `duration`. Returns (arrival, instance, start, status) per send.

    Scope: a container answering after the invocation timeout is not modelled (its user would
    have to get the answer before the container finishes); such a request raises.
    """
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=inst.workers) for inst in instances]
    members = list(range(len(instances)))
    size = len(services)
    out_arrival = np.zeros(size)
    out_instance = np.full(size, -1, np.int32)
    out_start = np.zeros(size)
    out_status = np.zeros(size, np.int8)
    sent = [0]
    active: list[bool] = []

    def outstanding(i: int) -> int:
        return len(resources[i].users) + len(resources[i].queue)

    def user(number: int):
        while active[number] and env.now < duration:
            k = sent[0]
            if k >= size:
                raise ValueError(f"more than {size} sends: give longer per-send arrays")
            sent[0] += 1
            t = env.now
            out_arrival[k] = t
            out_start[k] = t
            latency = 0.0
            if payloads[k] > max_payload:
                out_status[k] = PAYLOAD_TOO_LARGE
            elif not members:
                out_status[k] = NO_CAPACITY
            else:
                if strategy == ROUTING_RANDOM:
                    chosen = members[min(int(us[k] * len(members)), len(members) - 1)]
                else:
                    best = min(outstanding(i) for i in members)
                    tied = [i for i in members if outstanding(i) == best]
                    chosen = tied[min(int(us[k] * len(tied)), len(tied) - 1)]
                out_instance[k] = chosen
                resource = resources[chosen]
                if resource.count == resource.capacity and len(resource.queue) >= instances[chosen].queue_limit:
                    out_status[k] = QUEUE_FULL
                else:
                    with resource.request() as slot:
                        yield slot
                        out_start[k] = env.now
                        yield env.timeout(services[k])
                    latency = env.now - t
                    if latency > timeout:
                        raise ValueError(f"send {k} timed out: outside this model's scope")
                    out_status[k] = MODEL_ERROR if model_errors[k] else OK
            yield env.timeout(t + latency + overheads[k] + thinks[k] - env.now)

    def schedule():
        for t, users in knots:
            if t >= duration:
                break
            yield env.timeout(t - env.now)
            running = [number for number, on in enumerate(active) if on]
            for number in running[users:]:
                active[number] = False
            for _ in range(users - len(running)):
                active.append(True)
                env.process(user(len(active) - 1))

    env.process(schedule())
    env.run()
    n = sent[0]
    return out_arrival[:n], out_instance[:n], out_start[:n], out_status[:n]
