"""The suite's workloads, one module each; `registry.py` lists them (see there how to add one)."""
