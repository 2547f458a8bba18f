"""`docs/validation.md` is current: regenerated (every run seeded) it equals the committed page.

The page's closed forms are computed here again, independently, so a wrong formula on the page fails.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simfleet.calibration.theory_checks import che_hit_ratio, erlang_b, erlang_c
from simfleet.calibration.validation_page import main

PAGE = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


def test_the_page_is_current(tmp_path):
    out = tmp_path / "validation.md"
    assert main([str(out)]) == 0
    assert out.read_text() == PAGE.read_text(), "docs/validation.md is stale: run python -m simfleet.calibration.validation_page"


def test_erlang_c_against_the_birth_death_chain():
    # Stationary distribution of the M/M/c chain, summed directly: P(wait) = P(n >= c).
    c, a = 4, 3.2
    states = np.array([a**n / math.factorial(n) if n < c else a**n / (math.factorial(c) * c ** (n - c))
                       for n in range(400)])
    assert erlang_c(c, a) == pytest.approx(states[c:].sum() / states.sum(), rel=1e-9)


def test_erlang_b_against_its_definition():
    c, a = 3, 2.27
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    assert erlang_b(c, a) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


def test_che_approximation_solves_its_equation():
    p = np.arange(1, 1001, dtype=float) ** -0.8
    p /= p.sum()
    ratio = che_hit_ratio(p, 46)
    assert 0 < ratio < 1
    assert che_hit_ratio(p, 1000) == 1.0
    # Hit ratio rises with the cache size.
    assert che_hit_ratio(p, 100) > ratio
