"""The JIT-off tier: the kernel tests marked `jit_off` run again with numba's JIT disabled.

With ``NUMBA_DISABLE_JIT=1`` every `@njit` function is its own Python source, so the compiled
kernels' bodies (`simfleet.engine.kernels.flow`, `simfleet.metrics.aggregation_kernels`) run as
plain Python: Python-level tools see them (coverage, debuggers), and NumPy's bounds checks, which
compiled code skips, catch any read past an array. The tests marked `jit_off` (differential tests
against the naive oracles, the aggregation kernels against their NumPy definitions) are run here in
a subprocess with the JIT off; their own example budgets hold (the tier takes about 65 s of CPU
time). Tests of those modules marked `no_kernel` (checks of a generator on the naive oracle alone,
which calls no compiled code) are left out: with the JIT off they would run exactly as they did.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.metrics.aggregation_kernels import _float_bits_python

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def jit_off_files() -> list[Path]:
    """The test modules marked `jit_off` (module-level `pytestmark`)."""
    return sorted(path for path in TESTS.glob("test_*.py")
                  if re.search(r"^pytestmark = .*pytest\.mark\.jit_off", path.read_text(encoding="utf-8"), re.M))


def test_the_tier_holds_the_kernel_tests():
    names = {path.name for path in jit_off_files()}
    assert {"test_differential.py", "test_serverless_differential.py", "test_mme_differential.py",
            "test_run_totals.py", "test_occupancy_samples.py", "test_aggregator_stateful.py"} <= names, names


def test_kernel_tests_pass_with_the_jit_off():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    files = [str(path.relative_to(ROOT)) for path in jit_off_files()]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "jit_off and not slow and not no_kernel",
                             *files], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


@settings(max_examples=300)
@given(st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.0, 0.5]))
def test_the_python_form_of_float_bits_equals_the_intrinsic(x):
    """The fallback the JIT-off tier runs gives the bits the compiled intrinsic gives (and the struct
    module's reading of the IEEE 754 encoding)."""
    import struct

    expected = struct.unpack("<q", struct.pack("<d", x))[0]
    assert _float_bits_python(x) == expected
    assert _compiled_float_bits()(np.float64(x)) == expected


_compiled = []


def _compiled_float_bits():
    """`_float_bits` compiled (with the JIT off, this is the Python form again)."""
    if not _compiled:
        from numba import njit

        from simfleet.metrics.aggregation_kernels import _float_bits

        _compiled.append(njit(lambda x: _float_bits(x)))
    return _compiled[0]
