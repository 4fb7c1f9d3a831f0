"""Closed-form eigen-decomposition and solve of 2x2 matrices: the engine's only ones.

Works on NumPy and JAX arrays alike (``xp`` is ``numpy`` or ``jax.numpy``), batched over any
leading axes, so the compiled curvature pass and the NumPy classifier read the same formula.
"""

from __future__ import annotations

import numpy as np


def eigh_2x2(H, xp=np):
    r"""Ascending eigenvalues ``(..., 2)`` and the unit eigenvector of the larger one ``(..., 2)``.

    With :math:`a = H_{00}`, :math:`c = H_{11}`, :math:`b = (H_{01} + H_{10})/2`,
    :math:`m = (a + c)/2`, :math:`d = (a - c)/2`, :math:`r = \sqrt{d^2 + b^2}`:
    :math:`\lambda = m \mp r`; the top eigenvector is :math:`(b, \lambda_{max} - a)` normalised,
    or the axis of the larger diagonal entry when that vector vanishes (a multiple of I).
    """
    a, b, c, m, r = _parts(H, xp)
    top = m + r
    vec = xp.stack([b, top - a], axis=-1)
    norm = xp.sqrt(vec[..., 0] ** 2 + vec[..., 1] ** 2)
    flat = norm < 1e-12
    axis = xp.where((a >= c)[..., None], xp.asarray([1.0, 0.0]), xp.asarray([0.0, 1.0]))
    vec = xp.where(flat[..., None], axis, vec / xp.where(flat, 1.0, norm)[..., None])
    return xp.stack([m - r, top], axis=-1), vec


def eigvals_2x2(H, xp=np):
    """Ascending eigenvalues ``(..., 2)`` of symmetric 2x2 matrices (see `eigh_2x2`; the
    same numbers, without the eigenvector)."""
    _, _, _, m, r = _parts(H, xp)
    return xp.stack([m - r, m + r], axis=-1)


def eigvals_2x2_entries(h00, h01, h10, h11, xp=np):
    """Ascending eigenvalues ``(lo, hi)`` of the matrices whose entries are given as separate
    arrays (the same numbers as `eigvals_2x2`; no strided access into (..., 2, 2) stacks)."""
    _, _, _, m, r = _entry_parts(h00, h01, h10, h11, xp)
    return m - r, m + r


def _parts(H, xp):
    """a, b, c, m and r of `eigh_2x2`'s formula."""
    return _entry_parts(H[..., 0, 0], H[..., 0, 1], H[..., 1, 0], H[..., 1, 1], xp)


def _entry_parts(h00, h01, h10, h11, xp):
    a, b, c = h00, 0.5 * (h01 + h10), h11
    m, d = 0.5 * (a + c), 0.5 * (a - c)
    return a, b, c, m, xp.sqrt(d * d + b * b)


def solve_2x2(H, v, xp=np):
    r"""``H^{-1} v`` for 2x2 matrices ``(..., 2, 2)`` and vectors ``(..., 2)`` by Cramer's rule:
    :math:`\frac{1}{ad - bc}(d v_0 - b v_1,\; a v_1 - c v_0)` with :math:`H = [[a, b], [c, d]]`
    (inf or nan where ``H`` is singular; callers pass invertible ones). A thousand systems take
    microseconds, where a batched LAPACK call costs half a millisecond."""
    x, y = solve_2x2_entries(H[..., 0, 0], H[..., 0, 1], H[..., 1, 0], H[..., 1, 1],
                             v[..., 0], v[..., 1])
    return xp.stack([x, y], axis=-1)


def solve_2x2_entries(a, b, c, d, v0, v1):
    """`solve_2x2` with the matrix entries ``[[a, b], [c, d]]`` and the vector's two
    coordinates given as separate arrays; returns the solution's coordinates ``(x, y)``."""
    det = a * d - b * c
    return (d * v0 - b * v1) / det, (a * v1 - c * v0) / det
