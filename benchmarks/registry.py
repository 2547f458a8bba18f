"""The workloads of the suite: each is one `Workload` entry, listed in `WORKLOADS` in run order.

A workload is a function `run(settings) -> dict` that measures everything it reports (see
`suite.py` for the shape of the dict), plus optional `probes`: functions run in a fresh process
by `measure.fresh_probe` (`suite.py --child NAME.PROBE --spec JSON`), each returning
`(warm_up, run)` callables for `measure.child_probe` (the name `run` is taken: the suite runs
each whole workload in a fresh process as `--child NAME.run`). Adding a workload is one module
under `workloads/` that defines `WORKLOAD`, and one line below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

__all__ = ["Settings", "Workload", "workloads"]


@dataclass(frozen=True)
class Settings:
    quick: bool            # a few seconds per workload: checks that it runs, not how fast
    repeat: int | None     # timed repeats per figure (None: the workload's default)

    def repeats(self, full_default: int) -> int:
        return self.repeat or (1 if self.quick else full_default)


@dataclass(frozen=True)
class Workload:
    name: str
    run: Callable[[Settings], dict]
    probes: Mapping[str, Callable[[dict], tuple[Callable, Callable]]] = field(default_factory=dict)


def workloads() -> list[Workload]:
    """Every workload, in the order the suite runs them."""
    from workloads import (busy, closed_loop, day, inference_components, jit, kernel, multi_model, open_loop,
                           pipeline, recommender, scaling, serverless, sweep_1000, week)

    return [open_loop.WORKLOAD, day.WORKLOAD, closed_loop.WORKLOAD, pipeline.WORKLOAD, serverless.WORKLOAD,
            multi_model.WORKLOAD, inference_components.WORKLOAD,
            recommender.WORKLOAD, kernel.WORKLOAD, jit.WORKLOAD, scaling.WORKLOAD, busy.WORKLOAD, week.WORKLOAD,
            sweep_1000.WORKLOAD]
