"""Traffic: open-loop arrival processes (rate functions, Poisson/constant sources, trace replay)."""
