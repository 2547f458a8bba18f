"""The `TargetContainerHostname` (or `TargetModel`) of each request an open-loop source hands the engine.

Part of the traffic sources' output (`Arrivals.hostnames`): a source with a fixed
`target_container_hostname` names one container for every request; a replayed trace with a
`target_container_hostname_column` names one per request, or none where a cell is empty. Hostnames
are carried as codes into a small table of names, so the engine maps them to container indices
with one small table per call (`EndpointFlow.hostname_codes`), never per request. Multi-model
requests' `TargetModel`s are carried the same way (`target_model`, `target_model_column`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TargetHostnames"]


@dataclass(frozen=True)
class TargetHostnames:
    """Per-request hostnames: request i names ``names[codes[i]]``, or no container where ``codes[i]`` is -1.

    `names` is the source's table for the whole run (the same tuple in every part it hands out),
    so a table derived from it can be computed once per source.
    """

    names: tuple[str, ...]
    codes: np.ndarray  # int32, one per request, -1 for none

    @classmethod
    def fixed(cls, name: str, count: int) -> TargetHostnames:
        """`count` requests that all name `name`."""
        return cls((name,), np.zeros(count, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, start: int, stop: int) -> TargetHostnames:
        """Requests ``start:stop``, with the same name table."""
        return TargetHostnames(self.names, self.codes[start:stop])

    def values(self) -> list[str | None]:
        """Each request's hostname, None for none (for tests and reports; the engine uses the codes)."""
        return [self.names[code] if code >= 0 else None for code in self.codes.tolist()]
