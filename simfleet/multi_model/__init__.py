"""Multi-model endpoints between the configuration and the fleet: the population of models a
multi-model variant serves (`population`), the cache tiers of one instance (`capacity`), and the
resolved description the engine's model cache will read (`runtime`).

Above `config`, `catalog`, `profiles` and `rng`; below `scenario` (which checks populations and
tiers) and `fleet` (which holds a variant's `MultiModelRuntime`).
"""
