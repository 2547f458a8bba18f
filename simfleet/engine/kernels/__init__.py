"""Numba-compiled request-plane kernels: arrays and scalars in, arrays out, no random state."""
