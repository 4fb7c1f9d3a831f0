"""The closed-form 2x2 routines equal LAPACK's answers."""

import jax.numpy as jnp
import numpy as np

from lrviz.engine.linalg2 import eigh_2x2, solve_2x2


def test_solve_2x2_equals_lapack_on_random_systems():
    rng = np.random.default_rng(3)
    H = rng.normal(size=(500, 2, 2)) + 3.0 * np.eye(2)  # asymmetric, well conditioned
    v = rng.normal(size=(500, 2))
    expected = np.linalg.solve(H, v[..., None])[..., 0]
    np.testing.assert_allclose(solve_2x2(H, v), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(solve_2x2(jnp.asarray(H, jnp.float32),
                                                    jnp.asarray(v, jnp.float32), jnp)),
                               expected, rtol=1e-4, atol=1e-5)


def test_solve_2x2_inverts_a_known_system():
    H = np.array([[2.0, 1.0], [1.0, 3.0]])  # det 5
    np.testing.assert_array_equal(solve_2x2(H, np.array([3.0, 4.0])), [1.0, 1.0])


def test_eigh_2x2_equals_lapack_on_random_symmetric_matrices():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(300, 2, 2))
    H = A + np.swapaxes(A, -1, -2)
    values, top = eigh_2x2(H)
    want_values, want_vectors = np.linalg.eigh(H)
    np.testing.assert_allclose(values, want_values, rtol=1e-10, atol=1e-10)
    # the top eigenvector up to sign
    dots = np.abs(np.einsum("bi,bi->b", top, want_vectors[..., :, 1]))
    np.testing.assert_allclose(dots, 1.0, atol=1e-10)
