"""The one way lrviz writes a number in prose, captions and figures."""

from __future__ import annotations

import math


def fmt_number(x: float) -> str:
    """A compact number: 0, 0.0005, 0.01, 1.5, 300, 1234, 6.59e+04, 3e-05, inf.

    Three significant digits (Python's ``.3g``), except that 100 <= |x| < 10000 is written as a
    whole number rather than in exponent form; exponents appear below 1e-4 and from 1e4 on.
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if 100 <= abs(x) < 1e4:
        return f"{x:.0f}"
    return f"{x:.3g}"
