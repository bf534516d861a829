"""demo/posterior_view.py and its use on the latent map (demo/explore.py): q(z|x,y) of a picture put into z as a
mean and ellipses, draws from it, and where the test digits' posterior means lie against the prior."""
import numpy as np
import pytest

from demo import explore
from demo import posterior_view as pv


def colour_pixels(picture, colour):
    return int((np.asarray(picture)[..., :3] == np.array(colour)).all(-1).sum())


def test_a_draw_from_q_is_mean_plus_std_times_standard_normal_noise():
    mean, std = [0.5, -1.0, 2.0], [0.1, 0.5, 0.2]
    eps, z = pv.draw_from_q(mean, std, np.random.default_rng(1))
    assert z == pytest.approx([m + s * e for m, s, e in zip(mean, std, eps)])
    draws = np.array([pv.draw_from_q(mean, std, np.random.default_rng(i))[1] for i in range(2000)])
    assert draws.mean(0) == pytest.approx(mean, abs=0.05) and draws.std(0) == pytest.approx(std, rel=0.1)


def test_the_map_draws_the_posterior_where_its_mean_is_and_the_drawn_z(generator):
    z = [0.0] * generator.z_dim
    plain = explore.latent_map(generator, 3, z, 0, 1)
    mean, std = [1.0] + [-1.5] + [0.0] * (generator.z_dim - 2), [0.3] * generator.z_dim
    marked = explore.latent_map(generator, 3, z, 0, 1, posterior={"mean": mean, "std": std}, drawn=[1.2, -1.0] +
                                [0.0] * (generator.z_dim - 2))
    assert colour_pixels(plain, pv.ELLIPSE) == 0 and colour_pixels(marked, pv.ELLIPSE) > 200
    assert colour_pixels(marked, pv.DRAWN) > 20
    geometry = pv.MapGeometry(explore.MAP_CELLS, explore.CELL, explore.Z)
    cx, cy = int(geometry.x(1.0)), int(geometry.y(-1.5))
    assert tuple(np.asarray(marked)[cy, cx]) == pv.ELLIPSE  # the mean's dot: right of centre, below it
    assert geometry.x(-3) == explore.CELL / 2 and geometry.y(3) == explore.CELL / 2


def test_the_density_of_test_digits_shades_where_they_are_and_draws_the_priors_circles(generator):
    z = [0.0] * generator.z_dim
    means = np.zeros((100, generator.z_dim))
    means[:, 0] = 2.0  # every digit's mean at z1 = +2, z2 = 0
    shaded = explore.latent_map(generator, 3, z, 0, 1, density=means)
    geometry = pv.MapGeometry(explore.MAP_CELLS, explore.CELL, explore.Z)
    far = np.asarray(shaded)[int(geometry.y(0)) - 15, int(geometry.x(2.0)) + 20]  # off the prior's circle
    empty = np.asarray(shaded)[int(geometry.y(-2.5)), int(geometry.x(-2.5))]
    assert far[0] > 100 and far[2] > 150 and tuple(empty) != tuple(far)  # violet where they lie, not elsewhere
    assert colour_pixels(shaded, pv.PRIOR) > 200


def test_the_draw_in_numbers():
    table = pv.draw_table_html([0.5, -1.0], [0.1, 0.5], [1.0, -2.0], [0.6, -2.0], 0, 1)
    assert table.count("<tr") == 3 and '+0.500' in table and '-2.000' in table and 'class="on-map"' in table
