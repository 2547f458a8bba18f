"""Locust-shaped `--csv` files from a simulated closed-loop run (examples and round-trip tests).

Not a measurement: simfleet writes the files Locust would have written had its users been the
run's closed-loop users: `<prefix>_stats.csv` (one row for `POST /invocations` and the
`Aggregated` row) and `<prefix>_stats_history.csv` (both rows every `interval_s` second, with the
percentiles of the last `WINDOW_S` seconds, as Locust's rolling window). Response times are
client-side (arrival to response) in milliseconds, rounded as Locust stores them (to 1 ms under
100 ms, to 10 ms under 1 s, to 100 ms under 10 s, to 1 s above), failures are the requests not answered OK.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import numpy as np

from simfleet.calibration.locust_csv import WINDOW_S
from simfleet.request_records import OK, RequestRecords

__all__ = ["locust_stats", "locust_history", "locust_round_ms"]

_QUANTILES = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%")
_STATS_HEADER = ("Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
                 "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
                 *_QUANTILES)
_HISTORY_HEADER = ("Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *_QUANTILES,
                   "Total Request Count", "Total Failure Count", "Total Median Response Time",
                   "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
                   "Total Average Content Size")


def locust_round_ms(ms: np.ndarray) -> np.ndarray:
    """Response times rounded as Locust's stats store them (locust/stats.py, `StatsEntry._log_response_time`:
    147 becomes 150, 3432 becomes 3400, 58760 becomes 59000)."""
    ms = np.asarray(ms, dtype=float)
    return np.where(ms < 100, np.rint(ms), np.where(ms < 1000, np.rint(ms / 10) * 10,
                    np.where(ms < 10_000, np.rint(ms / 100) * 100, np.rint(ms / 1000) * 1000)))


def _percentiles(ms: np.ndarray) -> list[str]:
    if ms.size == 0:
        return ["N/A"] * len(_QUANTILES)
    values = np.percentile(ms, [float(q[:-1]) for q in _QUANTILES], method="inverted_cdf")
    return [f"{v:g}" for v in values]


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _latency_ms(records: RequestRecords) -> np.ndarray:
    return locust_round_ms((records.response_s - records.arrival_s) * 1e3)


def locust_stats(records: RequestRecords, duration_s: float) -> str:
    ms = _latency_ms(records)
    failures = int(np.sum(records.status != OK))
    count = len(records)
    summary = [f"{v:g}" for v in (np.median(ms), np.mean(ms), ms.min(), ms.max())] if count else [0, 0, 0, 0]
    row = [count, failures, *summary, 0, f"{count / duration_s:.6g}", f"{failures / duration_s:.6g}",
           *_percentiles(ms)]
    return _csv(_STATS_HEADER, [["POST", "/invocations", *row], ["", "Aggregated", *row]])


def locust_history(records: RequestRecords, knots: list[tuple[float, int]], start: datetime, duration_s: float,
                   interval_s: float = 1.0) -> str:
    """History rows every `interval_s` from the start; `knots` the (time, users) step schedule."""
    order = np.argsort(records.response_s, kind="stable")
    done = records.response_s[order]
    ms = _latency_ms(records)[order]
    failed = (records.status != OK)[order]
    epoch = start.timestamp()
    rows = []
    for tick in np.arange(interval_s, duration_s + 1e-9, interval_s):
        users = next(n for t, n in reversed(knots) if t <= tick - 1e-9 or t == 0)
        upto = int(np.searchsorted(done, tick, side="right"))
        since = int(np.searchsorted(done, tick - WINDOW_S, side="right"))
        last_second = int(np.searchsorted(done, tick - 1.0, side="right"))
        window = ms[since:upto]
        total = ms[:upto]
        rate = (upto - last_second) / 1.0
        fail_rate = float(np.sum(failed[last_second:upto]))
        cumulative = ([f"{np.median(total):g}", f"{np.mean(total):.6g}", f"{total.min():g}", f"{total.max():g}"]
                      if upto else ["0", "0", "0", "0"])
        common = [users, None, None, f"{rate:g}", f"{fail_rate:g}", *_percentiles(window), upto,
                  int(np.sum(failed[:upto])), *cumulative, 0]
        for kind, name in (("POST", "/invocations"), ("", "Aggregated")):
            row = list(common)
            row[1], row[2] = kind, name
            rows.append([int(epoch + tick), *row])
    return _csv(_HISTORY_HEADER, rows)
