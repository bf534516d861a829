"""q(z|x,y) as a distribution on the Generate tab's latent map (demo/explore.py): for the picture put into z, the
posterior's mean and its 1-sigma and 2-sigma ellipses on the map's two dimensions; a draw from it, z = mu + sigma * eps
with eps ~ N(0, I), shown as numbers; and, on a switch, where MNIST's test digits of the digit shown put their
posterior means (the aggregate posterior) against the prior N(0, I), so that the holes of the prior show."""
import html

import numpy as np
from PIL import Image, ImageDraw

from .page_files import page_file
from .texts import DEFAULT, say

CSS = page_file("posterior_view.css")

ELLIPSE = (34, 211, 238)    # cyan: q's ellipses and mean, apart from the orange frame of the current z
DRAWN = (250, 204, 21)      # yellow: the z drawn from q
PRIOR = (74, 222, 128)      # green: the prior's 1-sigma and 2-sigma circles on the density
DENSITY = (168, 85, 247)    # violet: the test digits' posterior means
DENSITY_ALPHA = 170         # the densest cell's opacity (of 255)


class MapGeometry:
    """Where a z value lies on the latent map: `cells` digits a side, from -limit to +limit, `cell` px each; up is
    positive."""

    def __init__(self, cells, cell, limit):
        self.cells, self.cell, self.limit = cells, cell, limit
        self.step = 2 * limit / (cells - 1)

    def x(self, value):
        return ((value + self.limit) / self.step + 0.5) * self.cell

    def y(self, value):
        return (self.cells - 1 - (value + self.limit) / self.step + 0.5) * self.cell

    def length(self, value):
        return value / self.step * self.cell


def draw_posterior(picture, geometry, mean, std, dim_x, dim_y, drawn=None):
    """q's mean as a dot and its 1-sigma and 2-sigma ellipses (axis-aligned: q is a diagonal Gaussian) on the map's
    dimensions dim_x, dim_y, and `drawn` (a z drawn from q) as a ring; in place, on an RGB picture."""
    draw = ImageDraw.Draw(picture)
    cx, cy = geometry.x(mean[dim_x]), geometry.y(mean[dim_y])
    for k, width in ((1, 3), (2, 2)):
        rx, ry = geometry.length(k * std[dim_x]), geometry.length(k * std[dim_y])
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], outline=ELLIPSE, width=width)
    draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], fill=ELLIPSE)
    if drawn is not None:
        zx, zy = geometry.x(drawn[dim_x]), geometry.y(drawn[dim_y])
        draw.ellipse([zx - 8, zy - 8, zx + 8, zy + 8], outline=DRAWN, width=3)
    return picture


def draw_density(picture, geometry, means, dim_x, dim_y):
    """The test digits' posterior means on dimensions dim_x, dim_y as a 2-D histogram over the map's cells, shaded
    (the densest cell DENSITY_ALPHA opaque), and the prior's 1-sigma and 2-sigma circles; -> a new RGB picture."""
    edges = np.linspace(-geometry.limit - geometry.step / 2, geometry.limit + geometry.step / 2, geometry.cells + 1)
    counts, _, _ = np.histogram2d(np.asarray(means[:, dim_y]), np.asarray(means[:, dim_x]), bins=[edges, edges])
    counts = counts[::-1]  # rows from the top: up is positive
    shade = (counts / max(counts.max(), 1) * DENSITY_ALPHA).astype(np.uint8)
    alpha = Image.fromarray(shade, "L").resize(picture.size, Image.NEAREST)
    layer = Image.new("RGB", picture.size, DENSITY)
    out = Image.composite(layer, picture, alpha)
    draw = ImageDraw.Draw(out)
    cx, cy = geometry.x(0), geometry.y(0)
    for k in (1, 2):
        r = geometry.length(k)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=PRIOR, width=2)
    return out


def draw_from_q(mean, std, rng):
    """z = mean + std * eps, eps ~ N(0, I) drawn with `rng` (a numpy Generator): -> (eps, z), lists."""
    eps = rng.standard_normal(len(mean))
    return eps.tolist(), (np.asarray(mean) + np.asarray(std) * eps).tolist()


def draw_table_html(mean, std, eps, z_shown, dim_x, dim_y, lang=DEFAULT):
    """The draw in numbers: for each z dimension mu, sigma, eps and z = mu + sigma * eps (as the slider shows it);
    the map's two dimensions marked."""
    rows = "".join(
        f'<tr class="{"on-map" if d in (dim_x, dim_y) else ""}" data-dim="{d + 1}"><th>z{d + 1}</th>'
        f'<td class="mu">{m:+.3f}</td><td class="sigma">{s:.3f}</td><td class="eps">{e:+.3f}</td>'
        f'<td class="z">{v:+.2f}</td></tr>'
        for d, (m, s, e, v) in enumerate(zip(mean, std, eps, z_shown)))
    head = "".join(f"<th>{html.escape(t)}</th>" for t in ("", "μ", "σ", "ε", say(lang, "q_draw_z")))
    return (f'<div id="q-draw-table"><p>{say(lang, "q_draw_caption")}</p>'
            f'<table class="q-draw"><tr>{head}</tr>{rows}</table></div>')
