"""Serverless execution environments: the pools of a run's serverless variants, as flat arrays.

The request plane's station for a serverless variant (DESIGN §2.1) is a pool of execution
environments rather than instances. The request kernel (`kernels.flow`) takes environments,
starts them cold, frees and reaps them; the control plane changes a pool's provisioned
concurrency (`set_provisioned`, at run start and when Application Auto Scaling changes
`DesiredProvisionedConcurrency`), between two kernel calls, at the time of the change.

simfleet's choices where AWS is silent (each documented where the user sets it):
* an environment serves one request at a time and counts against `MaxConcurrency` (and the
  account's concurrency) from the request's arrival, its cold start included, to its completion;
* a request takes an idle provisioned environment first, then the idle on-demand environment that
  freed last (so the oldest idle ones are the ones reaped), and starts one cold only when no idle
  environment exists;
* an on-demand environment is reaped `idle_timeout` after it freed if no request took it; an
  environment freeing at the instant a request arrives serves it; a reap at that instant comes first;
* lowering provisioned concurrency releases idle provisioned environments at once, then busy ones
  (those that free first) when they finish their request; raising it adds warm environments at
  once. A change at t comes before everything else at t (an environment freeing at t is busy then).
"""

from __future__ import annotations

import numpy as np

from simfleet.engine.kernels.flow import ENV_DEAD, ENV_PROVISIONED_IDLE_OR_BUSY, ENV_RELEASING, EnvOut, Pools
from simfleet.request_records import ENV_PROVISIONED_ADDED, ENV_RELEASED, EnvironmentRecords

__all__ = ["EnvironmentPools", "UNLIMITED", "env_out"]

#: An account concurrency that never binds.
UNLIMITED = 1 << 62


class EnvironmentPools:
    """Every serverless variant's environments, numbered by pool (`pool_of`)."""

    def __init__(self, variants: list[int], max_concurrency: list[int], idle_timeout: list[float],
                 account_limit: int = UNLIMITED):
        """`variants`: the run's variant number of each pool, with its MaxConcurrency and idle timeout."""
        n = len(variants)
        self.pool_of = {int(v): p for p, v in enumerate(variants)}
        c = np.asarray(max_concurrency, np.int64)
        widest = int(c.max()) if n else 1
        self._events: list[tuple[float, int, int]] = []
        self.state = Pools(
            variant=np.asarray(variants, np.int64), max_concurrency=c,
            idle_timeout=np.asarray(idle_timeout, np.float64), provisioned=np.zeros(n, np.int64),
            account_limit=np.array([account_limit], np.int64),
            busy_t=np.zeros((n, widest)), busy_e=np.zeros((n, widest), np.int64), busy_n=np.zeros(n, np.int64),
            idle_e=np.zeros((n, widest), np.int64), idle_head=np.zeros(n, np.int64),
            idle_len=np.zeros(n, np.int64), pc_idle=np.zeros((n, widest), np.int64),
            pc_idle_n=np.zeros(n, np.int64),
            spare=np.tile(np.arange(widest, dtype=np.int64)[::-1], (n, 1)), n_spare=np.full(n, widest, np.int64),
            env_free=np.zeros((n, widest)), env_kind=np.zeros((n, widest), np.int8))

    def set_provisioned(self, variant: int, count: int, t: float) -> None:
        """Make `count` environments of `variant` provisioned from `t` on (the kernel has taken every
        event before `t`)."""
        p = self.pool_of[variant]
        change = int(count) - int(self.state.provisioned[p])
        if change > 0:
            self._ensure_spare(p, change)
        s = self.state
        if change > 0:
            for _ in range(change):
                s.n_spare[p] -= 1
                e = s.spare[p, s.n_spare[p]]
                s.env_kind[p, e] = ENV_PROVISIONED_IDLE_OR_BUSY
                s.env_free[p, e] = t
                s.pc_idle[p, s.pc_idle_n[p]] = e
                s.pc_idle_n[p] += 1
        for _ in range(-change):
            if s.pc_idle_n[p] > 0:  # an idle one goes at once
                s.pc_idle_n[p] -= 1
                e = s.pc_idle[p, s.pc_idle_n[p]]
                s.env_kind[p, e] = ENV_DEAD
                s.spare[p, s.n_spare[p]] = e
                s.n_spare[p] += 1
            else:  # a busy one when it frees: the one that frees first (ties: the lower slot)
                busy = [(s.env_free[p, e], e) for e in s.busy_e[p, : s.busy_n[p]]
                        if s.env_kind[p, e] == ENV_PROVISIONED_IDLE_OR_BUSY]
                s.env_kind[p, min(busy)[1]] = ENV_RELEASING
        s.provisioned[p] = count
        kind = ENV_PROVISIONED_ADDED if change > 0 else ENV_RELEASED
        self._events += [(float(t), int(variant), kind)] * abs(change)

    def provisioned(self, variant: int) -> int:
        return int(self.state.provisioned[self.pool_of[variant]])

    def take_events(self) -> EnvironmentRecords | None:
        """The control plane's environment events since the last call (provisioned level changes)."""
        if not self._events:
            return None
        t, v, k = zip(*self._events)
        self._events = []
        return EnvironmentRecords(np.array(t), np.array(v, np.int32), np.array(k, np.int8))

    def _ensure_spare(self, p: int, needed: int) -> None:
        """Room for `needed` more environments in pool `p`: the slot arrays grow (doubling) if not."""
        s = self.state
        if s.n_spare[p] >= needed:
            return
        old = s.env_free.shape[1]
        new = max(2 * old, old + needed - int(s.n_spare.min()))
        grown = {}
        for name in ("idle_e", "pc_idle", "spare", "env_free", "env_kind"):
            array = getattr(s, name)
            bigger = np.zeros((array.shape[0], new), array.dtype)
            bigger[:, :old] = array
            grown[name] = bigger
        # the idle ring is re-laid from its head, so that its positions are valid modulo the new width
        for q in range(len(s.variant)):
            ring = [s.idle_e[q, (s.idle_head[q] + k) % old] for k in range(s.idle_len[q])]
            grown["idle_e"][q, : len(ring)] = ring
            spare = list(s.spare[q, : s.n_spare[q]])
            fresh = list(range(new - 1, old - 1, -1))
            grown["spare"][q, : len(fresh) + len(spare)] = fresh + spare
        s.idle_head[:] = 0
        s.n_spare[:] += new - old
        self.state = s._replace(**grown)


def env_out(capacity: int) -> EnvOut:
    return EnvOut(np.empty(capacity), np.empty(capacity, np.int32), np.empty(capacity, np.int8),
                  np.zeros(1, np.int64))
