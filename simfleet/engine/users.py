"""Closed-loop users of one traffic source: how many are active, and the streams they draw.

Users send a request, wait for its answer (errors included), think, and send the next. Their
next sends live in the endpoint's `UserPool`, which the request kernel (`kernels.flow`) updates;
a population adds users there (their first send is the instant they are added) or deactivates its
most recently added ones, which then send nothing more, when the engine tells it to. Each source
draws its payloads and think times from its own streams (`traffic/{index}/payload`,
`traffic/{index}/think`); everything else a user's request draws is the endpoint's and its
variant's, as for open-loop requests (`engine.endpoint_flow`).
"""

from __future__ import annotations

import numpy as np

from simfleet.config.experiment import ClosedLoopTraffic
from simfleet.engine.endpoint_flow import EndpointFlow
from simfleet.rng import BufferedDraws, RandomStreams

__all__ = ["UserPopulation"]


class UserPopulation:
    """The users of one closed-loop traffic source."""

    def __init__(self, endpoint_name: str, target_variant: str | None, local: int, knots: list[tuple[float, int]],
                 payload: BufferedDraws, think: BufferedDraws, flow: EndpointFlow, source: int = -1,
                 job_name: str | None = None, hostname: str | None = None, model: str | None = None):
        """`local`: the target variant's number among the endpoint's variants (-1: the weights decide);
        `payload`, `think`: the streams (or given values) of the users' payloads and think times;
        `source`: the traffic source's index, which its requests' records carry; `job_name`: the
        Inference Recommender job whose load generator the users are, if any; `hostname`, `model`:
        the TargetContainerHostname and TargetModel of their requests, if any."""
        self.endpoint_name = endpoint_name
        self.source = source
        self.job_name = job_name
        self.target_variant = target_variant
        self.knots = knots
        self._local = local
        self._hostname = 0 if hostname is None else int(flow.hostname_codes((hostname,))[0])
        self._model = -1 if model is None else int(flow.model_codes((model,))[0])
        self._pool = flow.user_pool()
        self._payload_row = flow.draw_row(payload)
        self._think_row = flow.draw_row(think)
        self._users = np.empty(0, np.int64)  # this source's user numbers in the pool, in the order added

    @classmethod
    def from_spec(cls, spec: ClosedLoopTraffic, endpoint_name: str, variant_names: list[str], index: int,
                  streams: RandomStreams, flow: EndpointFlow, local: int | None = None) -> "UserPopulation":
        """The users of the `users` traffic source at `index` of the experiment's traffic. `local`:
        their variant's number in a flow shared by several endpoints of one variant each (the
        serverless flow), instead of its number among `variant_names`."""
        if local is None:
            local = -1 if spec.target_variant is None else variant_names.index(spec.target_variant)
        return cls(endpoint_name, spec.target_variant, local, spec.knots(),
                   streams.draws(f"traffic/{index}/payload", spec.payload.build().sample),
                   streams.draws(f"traffic/{index}/think", spec.think_time.build().sample), flow, index,
                   spec.job_name, spec.target_container_hostname, spec.target_model)

    @property
    def active_users(self) -> int:
        return int(self._pool.active[self._users].sum())

    def set_users(self, count: int, now: float) -> None:
        """Add users (their first send is `now`) or deactivate the most recently added ones."""
        active = self._users[self._pool.active[self._users]]
        if count > len(active):
            added = self._pool.add(count - len(active), now, self._local, self._hostname, self._payload_row,
                                   self._think_row, self.source, self._model)
            self._users = np.append(self._users, added)
        elif count < len(active):
            self._pool.active[active[count:]] = False
