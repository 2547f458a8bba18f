"""The engines simfleet is compared with, each given exactly the requests of a simfleet run.

* bare kernels: simfleet's own compiled request plane with nothing around it: a fresh
  `RequestPlane` with the run's instances, all requests pre-drawn, one call (open loop,
  `endpoint_flow.dispatch_given`) or one call per users' step (closed loop); both run `kernels.flow`;
* naive SimPy: `tests/oracle.py`, one SimPy process per request (open loop) or per user (closed
  loop), the plainest correct model of the same queues;
* ciw (`pip install ciw`, the `bench` extra): a general-purpose queueing-network simulator, fed
  the same inter-arrival and service times through its `Sequential` distributions.

Every function returns per-request outputs so that the suite can check that the engine really
ran the same workload (same instance, start of service and outcome as simfleet).
"""

from __future__ import annotations

import sys
from pathlib import Path
import numpy as np

__all__ = ["open_plane", "open_kernel", "naive_open", "closed_kernel", "naive_closed", "ciw_fifo",
           "ciw_missing", "same_results"]

TESTS = Path(__file__).resolve().parent.parent / "tests"


def _oracle():
    sys.path.insert(0, str(TESTS))
    try:
        import oracle
    finally:
        sys.path.remove(str(TESTS))
    return oracle


def open_plane(setup: dict):
    """A fresh request plane with the run's instances, idle."""
    from simfleet.engine.request_plane import RequestPlane

    plane = RequestPlane([setup["routing"]])
    for _ in range(setup["instances"]):
        plane.add_instance(setup["variant_index"], setup["workers"], setup["queue_limit"])
    return plane


def _inputs(req: dict, cut: slice) -> tuple:
    return (req["times"][cut], req["variants"][cut], req["services"][cut], req["payloads"][cut],
            req["us"][cut], req["model_errors"][cut], req["max_payload"], req["timeout"])


def open_kernel(req: dict, cut: slice = slice(None)) -> dict:
    """The request kernel in one call over the captured requests (`capture_open`, `dispatch_given`)."""
    from simfleet.engine.endpoint_flow import dispatch_given

    instance, start, _, status, _ = dispatch_given(open_plane(req), *_inputs(req, cut))
    return {"instance": instance, "start": start, "status": status}


def naive_open(req: dict, cut: slice = slice(None)) -> dict:
    """`tests/oracle.py`'s `naive_dispatch`: one SimPy process per request."""
    oracle = _oracle()
    instances = [oracle.NaiveInstance(req["variant_index"], req["workers"], req["queue_limit"])
                 for _ in range(req["instances"])]
    instance, start, _, status, _ = oracle.naive_dispatch(instances, [req["routing"]], *_inputs(req, cut))
    return {"instance": instance, "start": start, "status": status}


def _per_send(req: dict) -> dict:
    """Service time and overhead of each send as the closed-loop kernel computes them."""
    d = req["draws"]
    return {"service": d["service"] + d["payload"] / 1000.0 * d["payload_time_per_kb"],
            "overhead": d["overhead"] + d["payload"] / 1000.0 * d["overhead_per_kb"]}


def closed_kernel(req: dict) -> dict:
    """The request kernel with users only, on a fresh plane: one call per step of the users' schedule.

    The draw buffers hold every value the run needs (`capture_closed` draws them), so the kernel
    never stops for a refill (the suite checks the results against simfleet's, request for
    request); the users change at each knot as the engine changes them.
    """
    from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues, no_arrivals
    from simfleet.engine.users import UserPopulation

    d = req["draws"]
    plane = open_plane(req)
    variant = FlowVariant(index=req["variant_index"], weight=1.0, route=GivenValues(d["route"]),
                          services=(GivenValues(d["service"]),), payload_time_per_kb=(d["payload_time_per_kb"],),
                          error=GivenValues(d["error_u"]), error_rate=d["error_rate"])
    flow = EndpointFlow(plane, [variant], GivenValues(d["choice"]), GivenValues(d["overhead"]),
                        d["overhead_per_kb"], req["max_payload"], req["timeout"])
    knots = [(t, users) for t, users in req["knots"] if t < req["duration_s"]]
    users = UserPopulation("bench", None, -1, knots, GivenValues(d["payload"]), GivenValues(d["think"]), flow)
    flow.draws = flow.rows.buffer(len(d["service"]))
    parts = []
    for index, (t, count) in enumerate(knots):
        users.set_users(count, t)
        until = knots[index + 1][0] if index + 1 < len(knots) else req["duration_s"]
        columns, _ = flow.advance_columns(plane, no_arrivals(), until)
        parts.append(columns)
    return {name: np.concatenate([p[name] for p in parts]) for name in ("arrival", "instance", "start", "status")}


def naive_closed(req: dict, until_s: float) -> dict:
    """`tests/oracle.py`'s `naive_closed_loop` (one SimPy process per user) up to `until_s`."""
    oracle = _oracle()
    d = req["draws"]
    per_send = _per_send(req)
    instances = [oracle.NaiveInstance(req["variant_index"], req["workers"], req["queue_limit"])
                 for _ in range(req["instances"])]
    arrival, instance, start, status = oracle.naive_closed_loop(
        instances, req["routing"], req["knots"], until_s, per_send["service"], d["payload"], d["route"],
        d["error"], per_send["overhead"], d["think"], req["max_payload"], req["timeout"])
    return {"arrival": arrival, "instance": instance, "start": start, "status": status}


def ciw_missing() -> str | None:
    """Why ciw cannot run here, or None when it can."""
    try:
        import ciw  # noqa: F401
    except ImportError as error:
        return f"ciw is not importable ({error}); install it with pip install -e '.[bench]'"
    return None


def ciw_fifo(gaps: np.ndarray, services: np.ndarray, servers: int) -> dict:
    """One FIFO node with `servers` servers in ciw; customer k arrives `gaps[k]` after customer k-1.

    ciw draws each customer's inter-arrival time as it arrives and its service time as its
    service starts (FIFO: in arrival order), so `Sequential` distributions over `gaps` and
    `services` replay exactly these requests (arrival k = gaps[0] + … + gaps[k], added in that
    order as `np.cumsum` does). Runs until every customer has finished; returns arrival and start
    of service per customer, in arrival order.
    """
    import ciw

    n = len(gaps)
    # Sequential cycles through its values: a last, huge gap keeps customer n+1 out.
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Sequential([float(g) for g in gaps] + [1e18])],
        service_distributions=[ciw.dists.Sequential([float(s) for s in services])],
        number_of_servers=[servers])
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(n, method="Finish")
    records = sorted(simulation.get_all_records(), key=lambda r: r.id_number)
    return {"arrival": np.array([r.arrival_date for r in records]),
            "start": np.array([r.service_start_date for r in records]),
            "id": np.array([r.id_number for r in records])}


def same_results(a: dict, b: dict, keys=("instance", "start", "status"), n: int | None = None) -> bool:
    """Do two engines give the same per-request results (on the first `n` requests)?"""
    cut = slice(None) if n is None else slice(0, n)
    return all(len(a[k][cut]) == len(b[k][cut]) and np.array_equal(a[k][cut], b[k][cut]) for k in keys)
