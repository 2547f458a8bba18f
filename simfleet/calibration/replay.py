"""Self-validation: the calibration workload replayed with the fitted entry, compared with the data.

Every load level is simulated again, as long as it was observed (up to
`settings.replay_max_requests` requests), with the fitted candidate and a fresh seed
(`settings.replay_seed`), and each observed p50/p90/p99 and throughput is set beside the
simulated one with the error in %. Errors above `settings.warn_error_pct` are warnings. The rows
go into the output and into the profile's source (the fit's quality).
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.calibration.candidate import Candidate
from simfleet.calibration.observations import LoadLevel
from simfleet.calibration.settings import PERCENTILES
from simfleet.calibration.workload import Workload

__all__ = ["ReplayRow", "replay", "table", "warnings"]


@dataclass(frozen=True)
class ReplayRow:
    level: str
    quantity: str              # "p50", "p90", "p99", "throughput"
    observed: float            # seconds, or requests per second
    simulated: float

    @property
    def error_pct(self) -> float:
        return (self.simulated / self.observed - 1) * 100 if self.observed else float("inf")

    def text(self) -> str:
        if self.quantity == "throughput":
            return (f"{self.quantity} obs {self.observed:.4g}/s sim {self.simulated:.4g}/s "
                    f"({self.error_pct:+.1f} %)")
        return (f"{self.quantity} obs {self.observed * 1e3:.4g} ms sim {self.simulated * 1e3:.4g} ms "
                f"({self.error_pct:+.1f} %)")


def replay(workload: Workload, levels: list[LoadLevel], candidate: Candidate, seed: int,
           max_requests: int) -> list[ReplayRow]:
    rows = []
    for index, level in enumerate(levels):
        sim = workload.simulate(level, candidate, seed, max_requests)
        name = f"level {index + 1}"
        for q in PERCENTILES:
            if q in level.latency_s:
                rows.append(ReplayRow(name, f"p{q:g}", level.latency_s[q], sim.latency_s[q]))
        rows.append(ReplayRow(name, "throughput", level.rate_per_s, sim.throughput_per_s))
    return rows


def table(rows: list[ReplayRow], levels: list[LoadLevel]) -> list[str]:
    """The replay as printed lines: one per level and quantity."""
    lines = [f"{'level':<8} {'quantity':<10} {'observed':>12} {'simulated':>12} {'error %':>8}"]
    for row in rows:
        unit = 1.0 if row.quantity == "throughput" else 1e3
        suffix = "/s" if row.quantity == "throughput" else "ms"
        lines.append(f"{row.level:<8} {row.quantity:<10} {row.observed * unit:>10.4g}{suffix:>2} "
                     f"{row.simulated * unit:>10.4g}{suffix:>2} {row.error_pct:>+8.1f}")
    lines += [f"level {i + 1}: {level.label}" for i, level in enumerate(levels)]
    return lines


def warnings(rows: list[ReplayRow], threshold_pct: float) -> list[str]:
    return [f"warning: {row.level} {row.quantity}: simulated differs from observed by {row.error_pct:+.1f} % "
            f"(more than {threshold_pct:g} %)" for row in rows if abs(row.error_pct) > threshold_pct]
