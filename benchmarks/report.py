"""The suite's printed table: one block per workload, engines as rows, then ratios, checks and targets."""

from __future__ import annotations

__all__ = ["report"]

MIB = 2**20


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.1f}"


def _bytes(value) -> str:
    return "-" if value is None else f"{value / MIB:.1f}"


def _header() -> str:
    return (f"  {'':<46} {'requests':>11} {'wall s':>8} {'min':>8} {'max':>8}"
            f" {'req/s':>9} {'min':>9} {'max':>9} {'peak MiB':>9}")


def _row(engine: dict) -> str:
    label = engine["label"]
    if "skipped" in engine:
        return f"  {label:<46} skipped: {engine['skipped']}"
    w, r = engine["wall_s"], engine["requests_per_s"]
    line = (f"  {label:<46} {engine['requests']:>11,} {w['median']:>8.3f} {w['min']:>8.3f} {w['max']:>8.3f}"
            f" {_rate(r['median']):>9} {_rate(r['min']):>9} {_rate(r['max']):>9} {_bytes(engine.get('peak_bytes')):>9}")
    if "scaled" in engine:
        s = engine["scaled"]
        line += (f"\n  {'  -> scaled to the whole workload':<46} {s['requests']:>11,} {s['wall_s']:>8.1f}"
                 f"  (same requests/s)")
    return line


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.3g}x" if value < 10 else f"{value:,.1f}x"
    if unit == "s":
        return f"{value:.3g} s"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    return f"{value:.4g}{(' ' + unit) if unit else ''}"


def _target(t: dict) -> str:
    verdict = "met   " if t["met"] else "MISSED"
    return (f"  [{verdict}] {t['what']}: {_number(t['measured'], t['unit'])} "
            f"(target {t['relation']} {_number(t['bound'], t['unit'])})")


def _memory_lines(memory: dict) -> list[str]:
    lines = []
    for name, m in memory.items():
        if not isinstance(m, dict) or "vmhwm_after_run_bytes" not in m:
            continue
        before, after = m["vmhwm_before_run_bytes"], m["vmhwm_after_run_bytes"]
        rss = "" if after is None else f", process peak RSS {_bytes(before)} -> {_bytes(after)} MiB (VmHWM)"
        spec = ", ".join(f"{key}={value:g}" for key, value in m["spec"].items())
        lines.append(f"  memory, {name.replace('_', ' ')} ({spec}), fresh process: tracemalloc peak "
                     f"{_bytes(m['tracemalloc_peak_bytes'])} MiB{rss}")
    return lines


def _block(name: str, out: dict) -> list[str]:
    lines = [f"{name}: {out['title']}", f"  median of {out['repeat']} repeat(s), with min and max", _header()]
    lines += [_row(engine) for engine in out["engines"].values()]
    if out.get("ratios"):
        lines.append("  ratios of median req/s: " + ", ".join(
            f"{key.replace('_over_', ' / ').replace('_', ' ')} = {_number(value, 'x')}"
            for key, value in out["ratios"].items()))
    if out.get("checks"):
        lines.append("  same per-request results: " + ", ".join(
            f"{key.replace('_', ' ')}: {'yes' if ok else 'NO'}" for key, ok in out["checks"].items()))
    lines += _memory_lines(out.get("memory", {}))
    lines += [f"  {line}" for line in out.get("extra_lines", [])]
    lines += [_target(t) for t in out.get("targets", [])]
    lines += [f"  note: {note}" for note in out.get("notes", [])]
    return lines


def report(out: dict) -> str:
    m = out["machine"]
    versions = ", ".join(f"{name} {m[name]}" for name in ("python", "numpy", "numba", "simpy"))
    lines = [f"simfleet benchmark suite{' (--quick: checks that it runs, not how fast)' if out['quick'] else ''}; "
             f"{m['cpus']} CPUs; {versions}; req/s = simulated requests per wall second; peak MiB = tracemalloc peak", ""]
    for name, workload in out["workloads"].items():
        lines += _block(name, workload) + [""]
    met = [t for w in out["workloads"].values() for t in w.get("targets", [])]
    lines.append(f"targets met: {sum(t['met'] for t in met)} of {len(met)}")
    return "\n".join(lines)
