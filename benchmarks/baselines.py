"""The engines simfleet is compared with, each given exactly the requests of a simfleet run.

* bare kernels: simfleet's own compiled request plane with nothing around it: a fresh
  `RequestPlane` with the run's instances, all requests pre-drawn, one call (open loop,
  `kernels.dispatch`) or one call per users' step (closed loop, `kernels.closed_loop`);
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
    """`RequestPlane.dispatch` in one call over the captured requests (`capture_open`)."""
    instance, start, _, status, _ = open_plane(req).dispatch(*_inputs(req, cut))
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
    """`kernels.closed_loop` on a fresh plane: one call per step of the users' schedule.

    The draw buffers hold every value the run needs (`capture_closed` draws them) and the output
    columns every request, so the kernel never stops for a refill or to hand over its output; the
    users change at each knot as the engine changes them.
    """
    from simfleet.engine.kernels.closed_loop import STOP_UNTIL, _closed_loop_batch

    d = req["draws"]
    n = len(d["service"])
    plane = open_plane(req)
    user_next, user_active, user_variant = np.empty(0), np.empty(0, np.bool_), np.empty(0, np.int64)
    endpoint_draws = np.stack([d["choice"], d["overhead"], d["payload"], d["think"]])
    variant_draws = np.stack([d["service"], d["route"], d["error_u"]])[None, :, :]
    cursor_endpoint, cursor_variant = np.zeros(1, np.int64), np.zeros(1, np.int64)
    out = {"arrival": np.empty(n), "variant": np.empty(n, np.int32), "instance": np.empty(n, np.int32),
           "status": np.empty(n, np.int8), "payload": np.empty(n), "service": np.empty(n), "start": np.empty(n),
           "model_latency": np.empty(n), "overhead": np.empty(n), "active": np.empty(n, np.int32)}
    knots = [(t, users) for t, users in req["knots"] if t < req["duration_s"]]
    done = 0
    for index, (t, users) in enumerate(knots):
        active = np.flatnonzero(user_active)
        if users > len(active):
            added = users - len(active)
            user_next = np.append(user_next, np.full(added, float(t)))
            user_active = np.append(user_active, np.ones(added, np.bool_))
            user_variant = np.append(user_variant, np.full(added, -1, np.int64))
        else:
            user_active[active[users:]] = False
        until = knots[index + 1][0] if index + 1 < len(knots) else req["duration_s"]
        count, reason = _closed_loop_batch(
            float(until), user_next, user_active, user_variant, np.array([1.0]),
            np.array([req["variant_index"]], np.int64), endpoint_draws, cursor_endpoint, variant_draws,
            cursor_variant, np.array([d["error_rate"]]), np.array([d["payload_time_per_kb"]]),
            float(d["overhead_per_kb"]), float(req["max_payload"]), float(req["timeout"]),
            plane.strategy, plane.member_ptr, plane.members, plane.slot_free, plane.slot_accum, plane.n_workers,
            plane.q_start, plane.q_head, plane.q_len, plane.q_limit,
            *(column[done:] for column in out.values()))
        if reason != STOP_UNTIL:
            raise RuntimeError(f"closed-loop kernel stopped early ({reason}): draw buffers too short")
        done += count
    return {name: out[name][:done] for name in ("arrival", "instance", "start", "status")}


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
