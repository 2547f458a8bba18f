"""Aggregation kernels: the per-request passes of the run totals and of the concurrency samples.

Part of the metrics layer (numba-compiled, arrays and scalars in, no simfleet imports), used by
`metrics.run_totals` and `metrics.aggregator` on the request records the engine hands them; the
engine's own kernels (`simfleet.engine.kernels`) are the request plane's.

Both used to be a dozen NumPy passes over every dispatched batch (a sixth of an open-loop run,
benchmarks/README.md); here each is one compiled loop. They compute exactly what those passes
computed, integer for integer, so results do not change:

* `accumulate_totals` (for `metrics.run_totals.RunTotals`): per variant, the outcome counts, the
  end-to-end latency histogram bin of each answered request (the number of edges below it, found
  from a table by binary exponent and leading mantissa bits), and the nanosecond-unit sums
  (``rint(seconds / 1e-9)``, NumPy's ``round``) of its end-to-end latency, model latency and queue
  wait; over all requests, the sojourn sums of Little's law.
* `sample_occupancy` (for the aggregator's `ConcurrentRequestsPerModel`): for each served request
  ``[begin, end)`` in its container, +1 at the first sample instant at or after `begin` and −1 at
  the first at or after `end` (the caller's cumulative sum gives the counts), and the requests
  still in their containers after the period, compacted for the next one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import config as numba_config
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["accumulate_totals", "histogram_lookup", "sample_occupancy"]


@njit(cache=True)
def _accumulate_totals(variant, status, arrival, start, model_latency, response, reached, duration,
                       edges, bin_floor, min_exponent, status_counts, histogram, unit_sums, sojourn_units):
    n_edges = edges.shape[0]
    n_keys = bin_floor.shape[0]
    for k in range(arrival.shape[0]):
        v = variant[k]
        s = status[k]
        status_counts[v, s] += 1
        sojourn = response[k] - arrival[k]
        sojourn_ns = np.int64(np.rint(sojourn / 1e-9))
        sojourn_units[0] += sojourn_ns
        if response[k] <= duration:
            sojourn_units[1] += sojourn_ns
        else:
            sojourn_units[1] += np.int64(np.rint((duration - arrival[k]) / 1e-9))
        if not reached[s]:
            continue
        # the bin is the number of edges below the latency (bin j holds (edges[j-1], edges[j]]): the
        # table gives it at the start of the latency's binade slice, a step or none finishes it
        if sojourn <= edges[0]:
            index = 0
        elif sojourn > edges[n_edges - 1]:
            index = n_edges
        else:
            key = _binade_slice(sojourn, min_exponent)
            index = bin_floor[min(max(key, 0), n_keys - 1)]
            while index < n_edges and edges[index] < sojourn:
                index += 1
        histogram[v, index] += 1
        unit_sums[v, 0] += sojourn_ns
        unit_sums[v, 1] += np.int64(np.rint(model_latency[k] / 1e-9))
        unit_sums[v, 2] += np.int64(np.rint((start[k] - arrival[k]) / 1e-9))
        unit_sums[v, 3] += 1


#: slices of each binade [2**(e-1), 2**e) in the histogram's lookup table: each slice is narrower
#: than a bin (1/256 of a binade is at most 0.8 % wide, a bin 1.16 %), so at most one edge lies inside
_SLICES = 256


def _float_bits_python(x) -> int:
    """The IEEE 754 bits of a float64, as an int64: the plain-Python form of `_float_bits`, what the
    kernels call when numba's JIT is off (``NUMBA_DISABLE_JIT=1``, the test tier that covers their
    bodies with Python-level tools), where a numba intrinsic cannot be called."""
    return int(np.float64(x).view(np.int64))


@intrinsic
def _float_bits_compiled(typingctx, x):
    """The IEEE 754 bits of a float64, as an int64 (a register move, not a libm call)."""
    if x == types.float64:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.int64))
        return types.int64(types.float64), codegen
    return None


#: what `_binade_slice` calls: the intrinsic when compiled, its Python form with the JIT off
_float_bits = _float_bits_python if numba_config.DISABLE_JIT else _float_bits_compiled


@njit(cache=True, inline="always")
def _binade_slice(x, min_exponent):
    """The lookup table's key of a positive normal float x: its binade, counted from the one whose
    `math.frexp` exponent is `min_exponent`, times `_SLICES`, plus the slice of the binade it lies in.

    The same number as ``(e - min_exponent) * 256 + int((m - 0.5) * 512)`` for ``m, e = frexp(x)``,
    read from the bits: e is the biased exponent field minus 1022 and the slice is the top 8 bits
    of the 52-bit fraction. (`math.frexp` is a libm call per value: it took 12 of the 20 ms of
    `accumulate_totals` over the open-loop workload's 1.8 M requests; the bits take about 5.)
    """
    bits = _float_bits(x)
    return (((bits >> 52) & 0x7FF) - 1022 - min_exponent) * _SLICES + ((bits >> 44) & (_SLICES - 1))


def histogram_lookup(edges: np.ndarray) -> tuple[np.ndarray, int]:
    """(table, first exponent) for `accumulate_totals`: the number of `edges` below the smallest value
    of each slice of each binade from the one holding edges[0] to the one holding edges[-1]."""
    first = math.frexp(float(edges[0]))[1]
    last = math.frexp(float(edges[-1]))[1]
    exponents = np.repeat(np.arange(first, last + 1), _SLICES)
    mantissas = np.tile(0.5 + np.arange(_SLICES) / (2 * _SLICES), last - first + 1)
    starts = np.ldexp(mantissas, exponents)
    return np.searchsorted(edges, starts, side="left").astype(np.int64), first


def accumulate_totals(records, reached: np.ndarray, duration_s: float, edges: np.ndarray, lookup,
                      status_counts: np.ndarray, histogram: np.ndarray):
    """Add one batch's outcome counts and histogram bins into `status_counts` (variants × outcomes)
    and `histogram` (variants × ``len(edges) + 1`` bins) in place; `reached` is a table by outcome
    code, `lookup` the `histogram_lookup` of `edges`.

    Returns (unit sums: variants × [end-to-end, model latency, queue wait, answered],
    [sojourn, sojourn inside the run]) for this batch, in nanosecond units.
    """
    unit_sums = np.zeros((status_counts.shape[0], 4), np.int64)
    sojourn_units = np.zeros(2, np.int64)
    _accumulate_totals(
        np.ascontiguousarray(records.variant, np.int32), np.ascontiguousarray(records.status, np.int8),
        np.ascontiguousarray(records.arrival_s, np.float64), np.ascontiguousarray(records.start_s, np.float64),
        np.ascontiguousarray(records.model_latency_s, np.float64), np.ascontiguousarray(records.response_s, np.float64),
        reached, float(duration_s), edges, lookup[0], lookup[1], status_counts, histogram, unit_sums, sojourn_units)
    return unit_sums, sojourn_units


@njit(cache=True)
def _instants_before(x, sample_times, origin, spacing):
    n = sample_times.shape[0]
    guess = (x - origin) / spacing
    count = 0 if guess <= 0.0 else (n if guess >= n else np.int64(np.ceil(guess)))
    while count > 0 and sample_times[count - 1] >= x:
        count -= 1
    while count < n and sample_times[count] < x:
        count += 1
    return count


@njit(cache=True)
def _sample_occupancy(instance, begin, end, status, served, sample_times, t, counts,
                      kept_instance, kept_begin, kept_end, kept_status, n_kept):
    origin = sample_times[0]
    spacing = (sample_times[-1] - origin) / (sample_times.shape[0] - 1) if sample_times.shape[0] > 1 else 1.0
    for k in range(instance.shape[0]):
        if not served[status[k]]:
            continue
        # the number of sample instants before begin and before end (numpy.searchsorted(·, "left")):
        # estimated from the even spacing, then settled against the instants themselves
        first = _instants_before(begin[k], sample_times, origin, spacing)
        last = _instants_before(end[k], sample_times, origin, spacing)
        counts[instance[k], first] += 1
        counts[instance[k], last] -= 1
        if end[k] > t:
            kept_instance[n_kept] = instance[k]
            kept_begin[n_kept] = begin[k]
            kept_end[n_kept] = end[k]
            kept_status[n_kept] = status[k]
            n_kept += 1
    return n_kept


def sample_occupancy(parts, served: np.ndarray, sample_times: np.ndarray, t: float, n_instances: int):
    """Requests on each instance at `sample_times`, from `parts` of (instance, begin, end, outcome)
    columns; `served` is a table by outcome code of the requests that occupy an instance (from
    `begin`, their arrival, to `end`, when their last container finished them).

    Returns (counts: instances × samples, the part of the requests still on an instance after `t`).
    """
    n_samples = len(sample_times)
    diffs = np.zeros((n_instances, n_samples + 1), np.int64)
    total = sum(len(part[0]) for part in parts)
    kept = (np.empty(total, np.int32), np.empty(total), np.empty(total), np.empty(total, np.int8))
    n_kept = 0
    for instance, begin, end, status in parts:
        n_kept = _sample_occupancy(
            np.ascontiguousarray(instance, np.int32), np.ascontiguousarray(begin, np.float64),
            np.ascontiguousarray(end, np.float64), np.ascontiguousarray(status, np.int8), served,
            np.ascontiguousarray(sample_times, np.float64), float(t), diffs, *kept, n_kept)
    counts = np.cumsum(diffs, axis=1)[:, :n_samples].astype(np.float64)
    return counts, tuple(column[:n_kept] for column in kept)
