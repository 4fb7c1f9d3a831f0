"""Two-dimensional loss surfaces f(x, y), each with what a learner needs to read it.

Every surface is a pure JAX function ``fn(p, params)`` of a point ``p = (x, y)`` and a dict of
numeric parameters, so one compiled trajectory serves every parameter value. Gradients come from
``jax.grad``; all surfaces are smooth polynomials, cosines and Gaussians, so no gradient is NaN
anywhere in (or far outside) the plotted domain.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from lrviz.engine.linalg2 import eigvals_2x2
from lrviz.engine.spec import Interval, Param, as_number, lookup, resolve_params

SurfaceFn = Callable[[jax.Array, Mapping[str, jax.Array]], jax.Array]

# Start points (and points asked about in `theory.stability`) must lie within this many domain
# sizes of the plotted domain's centre, in each coordinate: generous (five plot widths away),
# yet half of the engine's escape radius (`core.ESCAPE` = 10), so a run always starts where
# its loss is an ordinary float32 number and has room to move before it counts as escaped.
START_REACH = 5.0


@dataclass(frozen=True)
class Minimum:
    """A known minimum: location, loss value and whether it is a global minimum."""

    x: float
    y: float
    value: float
    is_global: bool

    @property
    def point(self) -> tuple[float, float]:
        return (self.x, self.y)


@dataclass(frozen=True)
class Surface:
    """A 2D loss surface: the function plus everything needed to draw and explain it."""

    name: str
    title: str
    fn: SurfaceFn
    latex: str
    domain: tuple[tuple[float, float], tuple[float, float]]
    starts: tuple[tuple[float, float], ...]
    log_scale: bool
    teaches: str
    params: tuple[Param, ...] = ()
    fixed_minima: tuple[Minimum, ...] = ()
    minima_fn: Callable[[dict[str, float]], tuple[Minimum, ...]] | None = field(
        default=None, repr=False
    )

    @property
    def default_start(self) -> tuple[float, float]:
        return self.starts[0]

    @property
    def scale(self) -> float:
        """The larger side of the plotted domain: the yardstick for "near" and "far"."""
        (x0, x1), (y0, y1) = self.domain
        return float(max(x1 - x0, y1 - y0))

    @property
    def center(self) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.domain
        return ((x0 + x1) / 2.0, (y0 + y1) / 2.0)

    @property
    def start_box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((x_lo, x_hi), (y_lo, y_hi))``: where a start point may lie (see `START_REACH`)."""
        (cx, cy), reach = self.center, START_REACH * self.scale
        return ((cx - reach, cx + reach), (cy - reach, cy + reach))

    def check_point(self, point: object, what: str = "start") -> tuple[float, float]:
        """``point`` as two floats inside `start_box`, else a ValueError that names ``what``,
        the point and the allowed box."""
        try:
            items = list(point)  # type: ignore[call-overload]
        except TypeError:
            items = []
        if len(items) != 2:
            raise ValueError(f"{what} must be two numbers (x, y), got {point!r:.60}")
        x, y = (as_number(v, what) for v in items)
        (x0, x1), (y0, y1) = self.start_box
        if not (x0 <= x <= x1 and y0 <= y <= y1):  # False for nan too
            problem = ("is outside" if math.isfinite(x) and math.isfinite(y)
                       else "must be finite and inside")
            raise ValueError(
                f"{what} ({x:g}, {y:g}) {problem} the allowed box x in [{x0:g}, {x1:g}], "
                f"y in [{y0:g}, {y1:g}] for surface {self.name!r} (up to {START_REACH:g} "
                f"plot widths from the centre of its plotted domain)"
            )
        return (x, y)

    def resolve(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        """Default parameters overridden by ``params`` (unknown names raise ValueError)."""
        return resolve_params("surface", self.name, self.params, params)

    def minima(self, params: Mapping[str, float] | None = None) -> tuple[Minimum, ...]:
        """Every known minimum for these parameters (global ones flagged)."""
        if self.minima_fn is not None:
            return self.minima_fn(self.resolve(params))
        return self.fixed_minima

    def global_min_value(self, params: Mapping[str, float] | None = None) -> float:
        return min(m.value for m in self.minima(params))

    def __call__(self, x, y, **params) -> np.ndarray:
        """f evaluated on numpy arrays ``x``, ``y`` (broadcast together), in float32."""
        resolved = self.resolve(params)
        xs, ys = np.broadcast_arrays(np.asarray(x, np.float32), np.asarray(y, np.float32))
        flat = np.stack([xs.ravel(), ys.ravel()], axis=1)
        values = _evaluate_points(self.name, flat, _as_jax(resolved))
        return np.asarray(values).reshape(xs.shape)

    def grid(
        self, n: int = 120, params: Mapping[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An ``n x n`` grid over the domain: ``(xs, ys, Z)`` with ``Z[i, j] = f(xs[j], ys[i])``."""
        (x0, x1), (y0, y1) = self.domain
        xs = np.linspace(x0, x1, n, dtype=np.float32)
        ys = np.linspace(y0, y1, n, dtype=np.float32)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, self(X, Y, **(params or {}))


def _as_jax(params: Mapping[str, float]) -> dict[str, jax.Array]:
    return {k: jnp.float32(v) for k, v in params.items()}


@functools.partial(jax.jit, static_argnums=0)
def _evaluate_points(name: str, points: jax.Array, params: dict[str, jax.Array]) -> jax.Array:
    fn = SURFACES[name].fn
    return jax.vmap(lambda p: fn(p, params))(points)


# --- the functions -------------------------------------------------------------------------


def _bowl(p, q):
    """f = (a x^2 + b y^2) / 2: Hessian diag(a, b)."""
    return 0.5 * (q["a"] * p[0] ** 2 + q["b"] * p[1] ** 2)


def _ravine(p, q):
    """f = (u^2 + kappa v^2) / 2 with (u, v) the point rotated by -angle: eigenvalues 1, kappa."""
    theta = q["angle"] * (jnp.pi / 180.0)
    c, s = jnp.cos(theta), jnp.sin(theta)
    u = c * p[0] + s * p[1]
    v = -s * p[0] + c * p[1]
    return 0.5 * (u**2 + q["condition"] * v**2)


def _booth(p, q):
    x, y = p[0], p[1]
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _matyas(p, q):
    x, y = p[0], p[1]
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def _rosenbrock(p, q):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + q["b"] * (y - x**2) ** 2


def _beale(p, q):
    x, y = p[0], p[1]
    return (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    )


def _himmelblau(p, q):
    x, y = p[0], p[1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _six_hump_camel(p, q):
    x, y = p[0], p[1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _styblinski_tang(p, q):
    return 0.5 * jnp.sum(p**4 - 16 * p**2 + 5 * p)


def _rastrigin(p, q):
    A = q["amplitude"]
    return 2 * A + jnp.sum(p**2 - A * jnp.cos(2 * jnp.pi * p))


def _saddle(p, q):
    """f = x^2 + y^4/4 - y^2: a saddle at the origin between minima at (0, +-sqrt 2)."""
    x, y = p[0], p[1]
    return x**2 + 0.25 * y**4 - y**2


def _plateau(p, q):
    """f = 1 - exp(-r^2 / (2 w^2)): a narrow basin in a wide, almost flat plain."""
    r2 = p[0] ** 2 + p[1] ** 2
    return 1.0 - jnp.exp(-r2 / (2.0 * q["width"] ** 2))


_WELL_BOWL = 0.02  # a gentle bowl keeps the wells surface bounded below and far points honest


def _gaussian_wells(p, q):
    w2 = 2.0 * q["width"] ** 2
    d1 = (p[0] - q["x1"]) ** 2 + (p[1] - q["y1"]) ** 2
    d2 = (p[0] - q["x2"]) ** 2 + (p[1] - q["y2"]) ** 2
    return (
        _WELL_BOWL * (p[0] ** 2 + p[1] ** 2)
        - q["depth1"] * jnp.exp(-d1 / w2)
        - q["depth2"] * jnp.exp(-d2 / w2)
    )


def _wells_derivatives(p: np.ndarray, q: Mapping[str, float]) -> tuple[float, np.ndarray,
                                                                         np.ndarray]:
    """f, gradient and Hessian of the wells surface in closed form (float64 NumPy).

    With e_i = d_i exp(-|p - c_i|^2 / 2w^2): grad = 2s p + sum e_i (p - c_i) / w^2 and
    H = 2s I + sum e_i (I / w^2 - (p - c_i)(p - c_i)^T / w^4).
    """
    w2 = q["width"] ** 2
    value = _WELL_BOWL * float(p @ p)
    grad = 2 * _WELL_BOWL * p
    hess = 2 * _WELL_BOWL * np.eye(2)
    for k in ("1", "2"):
        r = p - np.array([q["x" + k], q["y" + k]])
        e = q["depth" + k] * math.exp(-float(r @ r) / (2 * w2))
        value -= e
        grad = grad + e * r / w2
        hess = hess + e * (np.eye(2) / w2 - np.outer(r, r) / w2**2)
    return value, grad, hess


def _refine_wells(start: np.ndarray, q: Mapping[str, float], iterations: int = 200) -> np.ndarray:
    """Damped Newton from ``start`` (a gradient step wherever the Hessian is not PD).

    Plain NumPy on purpose: it runs once per parameter set, and a jitted version would cost a
    second of compilation the first time a learner opens this surface.
    """
    p = np.asarray(start, float)
    for _ in range(iterations):
        _, g, H = _wells_derivatives(p, q)
        pd = H[0, 0] > 0 and np.linalg.det(H) > 0
        p = p - (np.linalg.solve(H, g) if pd else 0.5 * g)
        if np.linalg.norm(g) < 1e-12:
            break
    return p


@functools.lru_cache(maxsize=256)
def _wells_minima_cached(items: tuple[tuple[str, float], ...]) -> tuple[Minimum, ...]:
    params = dict(items)
    found: list[tuple[float, float, float]] = []
    for cx, cy in ((params["x1"], params["y1"]), (params["x2"], params["y2"])):
        p = _refine_wells(np.array([cx, cy]), params)
        value, _, H = _wells_derivatives(p, params)
        if not np.all(np.isfinite(p)) or not eigvals_2x2(np.asarray(H, float))[0] > 0:
            continue
        if any(math.dist(p, (fx, fy)) < 1e-2 for fx, fy, _ in found):
            continue  # the two wells merged into one basin
        found.append((float(p[0]), float(p[1]), float(value)))
    if not found:  # both wells too shallow: only the bowl's minimum near the origin remains
        p = _refine_wells(np.zeros(2), params)
        found.append((float(p[0]), float(p[1]), _wells_derivatives(p, params)[0]))
    best = min(v for _, _, v in found)
    return tuple(Minimum(x, y, v, is_global=v <= best + 1e-6) for x, y, v in found)


def _wells_minima(params: dict[str, float]) -> tuple[Minimum, ...]:
    return _wells_minima_cached(tuple(sorted(params.items())))


def _origin(value: float = 0.0) -> tuple[Minimum, ...]:
    return (Minimum(0.0, 0.0, value, True),)


_HIMMELBLAU_MINIMA = (
    Minimum(3.0, 2.0, 0.0, True),
    Minimum(-2.805118, 3.131313, 0.0, True),
    Minimum(-3.779310, -3.283186, 0.0, True),
    Minimum(3.584428, -1.848127, 0.0, True),
)
_CAMEL_MINIMA = (
    Minimum(0.089842, -0.712656, -1.031628, True),
    Minimum(-0.089842, 0.712656, -1.031628, True),
    Minimum(1.703607, -0.796084, -0.215464, False),
    Minimum(-1.703607, 0.796084, -0.215464, False),
    Minimum(1.607105, 0.568651, 2.104250, False),
    Minimum(-1.607105, -0.568651, 2.104250, False),
)
_ST_A, _ST_B = -2.903534, 2.746803
_STYBLINSKI_TANG_MINIMA = (
    Minimum(_ST_A, _ST_A, -78.332331, True),
    Minimum(_ST_B, _ST_A, -64.195612, False),
    Minimum(_ST_A, _ST_B, -64.195612, False),
    Minimum(_ST_B, _ST_B, -50.058893, False),
)

# Valid parameter ranges (see `Param.valid`). Curvatures are positive (zero or negative would
# make the bowl flat or unbounded below, and the listed minimum wrong); the upper bounds keep
# f finite in float32 everywhere in the start box.
_CURVATURE = Interval(0.0, 1e4, lo_open=True)
_WELL_CENTRE = Interval(-10.0, 10.0)
_WELL_DEPTH = Interval(0.0, 100.0)


_ALL: tuple[Surface, ...] = (
    Surface(
        name="bowl",
        title="Quadratic bowl",
        fn=_bowl,
        latex=r"f(x,y) = \tfrac12\left(a\,x^2 + b\,y^2\right)",
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        starts=((2.5, 2.0), (-2.0, 2.5)),
        log_scale=False,
        teaches="With curvature lambda, gradient descent is stable only for lr < 2/lambda "
        "and lands in one step at lr = 1/lambda.",
        params=(
            Param("a", 1.0, 0.1, 10.0, "curvature along x (a)", log=True, valid=_CURVATURE),
            Param("b", 1.0, 0.1, 10.0, "curvature along y (b)", log=True, valid=_CURVATURE),
        ),
        fixed_minima=_origin(),
    ),
    Surface(
        name="ravine",
        title="Ill-conditioned ravine",
        fn=_ravine,
        latex=r"f = \tfrac12\left(u^2 + \kappa\, v^2\right),\quad "
        r"\begin{pmatrix}u\\v\end{pmatrix} = R(-\theta)\begin{pmatrix}x\\y\end{pmatrix}",
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        starts=((-2.5, 1.5), (2.5, 2.5)),
        log_scale=False,
        teaches="When one direction is kappa times steeper than the other, the steep one caps "
        "the learning rate and the flat one then crawls: the zig-zag of a ravine.",
        params=(
            # kappa is a ratio of largest to smallest curvature: at least 1 by definition.
            Param("condition", 20.0, 1.0, 1000.0, "condition number kappa", log=True,
                  help="ratio of the steepest to the flattest curvature",
                  valid=Interval(1.0, 1e6)),
            Param("angle", 30.0, -90.0, 90.0, "rotation angle (degrees)",
                  help="how the ravine is turned against the axes",
                  valid=Interval(-180.0, 180.0)),
        ),
        fixed_minima=_origin(),
    ),
    Surface(
        name="booth",
        title="Booth",
        fn=_booth,
        latex=r"f = (x + 2y - 7)^2 + (2x + y - 5)^2",
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, -6.0), (8.0, -8.0)),
        log_scale=True,
        teaches="A tilted quadratic valley (curvatures 2 and 18): stable below lr = 2/18.",
        fixed_minima=(Minimum(1.0, 3.0, 0.0, True),),
    ),
    Surface(
        name="matyas",
        title="Matyas",
        fn=_matyas,
        latex=r"f = 0.26\,(x^2 + y^2) - 0.48\,xy",
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, 5.0), (9.0, -2.0)),
        log_scale=False,
        teaches="A long, flat diagonal valley (curvatures 1 and 0.04): convergence is slow "
        "along the flat direction whatever stable learning rate you pick.",
        fixed_minima=_origin(),
    ),
    Surface(
        name="rosenbrock",
        title="Rosenbrock",
        fn=_rosenbrock,
        latex=r"f = (1 - x)^2 + b\,(y - x^2)^2",
        domain=((-2.0, 2.0), (-1.0, 3.0)),
        starts=((-1.5, 2.0), (-1.0, -0.5), (1.5, -0.5)),
        log_scale=True,
        teaches="A curved banana valley: steep walls force a small learning rate, and the "
        "flat valley floor then takes a long time to follow.",
        params=(Param("b", 100.0, 1.0, 200.0, "wall steepness b", valid=_CURVATURE),),
        fixed_minima=(Minimum(1.0, 1.0, 0.0, True),),
    ),
    Surface(
        name="beale",
        title="Beale",
        fn=_beale,
        latex=r"f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        starts=((1.0, 1.5), (-1.0, -1.0), (2.0, -2.0)),
        log_scale=True,
        teaches="Flat plains next to sharp cliffs: a rate that is safe on the plain can "
        "throw you off a cliff.",
        fixed_minima=(Minimum(3.0, 0.5, 0.0, True),),
    ),
    Surface(
        name="himmelblau",
        title="Himmelblau",
        fn=_himmelblau,
        latex=r"f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((0.0, 0.0), (-1.0, 0.5), (-0.5, -1.5), (0.5, -1.0)),
        log_scale=True,
        teaches="Four equally good minima: where you start and how big you step decide "
        "which one you reach.",
        fixed_minima=_HIMMELBLAU_MINIMA,
    ),
    Surface(
        name="six_hump_camel",
        title="Six-hump camel",
        fn=_six_hump_camel,
        latex=r"f = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (4y^2 - 4)\,y^2",
        domain=((-2.5, 2.5), (-1.5, 1.5)),
        starts=((2.0, 1.0), (-1.5, -1.0), (1.0, -1.2)),
        log_scale=False,
        teaches="Two global minima and four local ones: a careful small step can settle in "
        "a worse valley than a bolder one.",
        fixed_minima=_CAMEL_MINIMA,
    ),
    Surface(
        name="styblinski_tang",
        title="Styblinski–Tang",
        fn=_styblinski_tang,
        latex=r"f = \tfrac12 \sum_{i\in\{x,y\}} \left(x_i^4 - 16x_i^2 + 5x_i\right)",
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((4.0, 4.0), (0.5, 0.5), (-4.5, 4.5)),
        log_scale=False,
        teaches="Four basins of different depth: gradient descent settles in whichever basin "
        "it starts in, and only one of them is the global minimum.",
        fixed_minima=_STYBLINSKI_TANG_MINIMA,
    ),
    Surface(
        name="rastrigin",
        title="Rastrigin",
        fn=_rastrigin,
        latex=r"f = 2A + \sum_{i\in\{x,y\}} \left(x_i^2 - A\cos 2\pi x_i\right)",
        domain=((-5.12, 5.12), (-5.12, 5.12)),
        starts=((3.2, 2.3), (-4.0, 4.5), (0.8, -0.6)),
        log_scale=False,
        teaches="A bumpy landscape with a local minimum near every integer point: small steps "
        "get caught in the nearest dimple, noise and large steps hop between them.",
        # A < 0 would turn the dimples into bumps and move the global minimum off (0, 0).
        params=(Param("amplitude", 10.0, 0.0, 20.0, "bump amplitude A",
                      valid=Interval(0.0, 1e3)),),
        fixed_minima=_origin(),
    ),
    Surface(
        name="saddle",
        title="Saddle",
        fn=_saddle,
        latex=r"f = x^2 + \tfrac14 y^4 - y^2",
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        starts=((2.0, 0.001), (2.0, 0.0), (-2.0, 0.5)),
        log_scale=False,
        teaches="The gradient vanishes at a saddle too: a run that arrives along the ridge "
        "stalls there, and leaves only as fast as its tiny sideways offset grows.",
        fixed_minima=(
            Minimum(0.0, math.sqrt(2.0), -1.0, True),
            Minimum(0.0, -math.sqrt(2.0), -1.0, True),
        ),
    ),
    Surface(
        name="plateau",
        title="Plateau",
        fn=_plateau,
        latex=r"f = 1 - \exp\!\left(-\frac{x^2 + y^2}{2w^2}\right)",
        domain=((-4.0, 4.0), (-4.0, 4.0)),
        starts=((3.0, 2.5), (1.5, 1.0)),
        log_scale=False,
        teaches="On a near-flat plain the gradient is tiny, so plain gradient descent barely "
        "moves; methods that rescale the gradient (Adam, RMSProp) walk out.",
        # w > 0 (f divides by w^2); 0.01 keeps w^2 a normal float32 number.
        params=(Param("width", 1.0, 0.3, 2.0, "basin width w", valid=Interval(0.01, 100.0)),),
        fixed_minima=_origin(),
    ),
    Surface(
        name="gaussian_wells",
        title="Gaussian wells",
        fn=_gaussian_wells,
        latex=r"f = 0.02\,(x^2 + y^2) - d_1 e^{-\|p - c_1\|^2 / 2w^2} "
        r"- d_2 e^{-\|p - c_2\|^2 / 2w^2}",
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        starts=((2.5, 2.5), (-2.5, 2.5), (0.0, -2.5)),
        log_scale=False,
        teaches="Place your own minima: the deeper well is the global minimum, the other a "
        "trap; the start point and the step size decide which one you land in.",
        params=(
            # Centres within 10 of the origin; a negative depth would be a bump, not a well;
            # w > 0 because f divides by w^2 (0.05 keeps the wells resolvable in float32).
            Param("x1", -1.5, -2.5, 2.5, "well 1 x", valid=_WELL_CENTRE),
            Param("y1", -1.0, -2.5, 2.5, "well 1 y", valid=_WELL_CENTRE),
            Param("depth1", 1.0, 0.0, 3.0, "well 1 depth", valid=_WELL_DEPTH),
            Param("x2", 1.5, -2.5, 2.5, "well 2 x", valid=_WELL_CENTRE),
            Param("y2", 1.0, -2.5, 2.5, "well 2 y", valid=_WELL_CENTRE),
            Param("depth2", 0.6, 0.0, 3.0, "well 2 depth", valid=_WELL_DEPTH),
            Param("width", 0.7, 0.2, 1.5, "well width w", valid=Interval(0.05, 10.0)),
        ),
        minima_fn=_wells_minima,
    ),
)

SURFACES: Mapping[str, Surface] = {s.name: s for s in _ALL}


def get_surface(name: str | Surface) -> Surface:
    """The surface called ``name``; a clear ValueError lists the names when it is unknown."""
    return lookup(SURFACES, "surface", name)
