"""Training images of common writing styles (cvae.style_data): shapes, labels, determinism, and kept apart from the
drawn test set (cvae.drawn_digits)."""
import ast
import inspect

import numpy as np
import torch

from cvae import style_data
from cvae.drawn_digits import TEMPLATES, _resample
from cvae.style_data import TRAINING_TEMPLATES, nominal, style_digits

N = 40


def test_shapes_range_and_labels():
    x, y = style_digits(N, seed=0)
    assert x.shape == (N, 784) and x.dtype == torch.float32
    assert y.dtype == torch.long and torch.equal(y, torch.arange(N) % 10)
    assert x.min() >= 0 and x.max() <= 1
    images = x.view(N, 28, 28)
    assert (images.amax((1, 2)) > 0.9).all()  # every image has ink
    # as MNIST: centred by centre of mass
    mass = images.sum((1, 2))
    rows = (images.sum(2) * torch.arange(28)).sum(1) / mass
    columns = (images.sum(1) * torch.arange(28)).sum(1) / mass
    assert ((rows - 13.5).abs() <= 1).all() and ((columns - 13.5).abs() <= 1).all()


def test_deterministic_and_a_prefix():
    x, y = style_digits(N, seed=0)
    x2, y2 = style_digits(N, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert torch.equal(style_digits(10, seed=0)[0], x[:10])
    assert not torch.equal(style_digits(10, seed=1)[0], x[:10])


def test_every_digit_and_the_issue_styles_have_templates():
    assert set(TRAINING_TEMPLATES) == set(range(10))
    for digit, variant in [(1, "flag"), (1, "flag_base"), (7, "crossbar"), (4, "open"), (9, "straight")]:
        assert variant in TRAINING_TEMPLATES[digit]


def _points(strokes):
    return np.vstack([_resample(np.asarray(s, float), 0.01)[0] for s in strokes])


def _hausdorff(a, b):
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return max(d.min(0).max(), d.min(1).max())


def test_no_template_of_the_drawn_test_set():
    code = ast.parse(inspect.getsource(style_data))
    used = {node.id for node in ast.walk(code) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(code) if isinstance(node, ast.Attribute)}
    used |= {alias.name for node in ast.walk(code) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert not used & {"TEMPLATES", "NINE_LOOP", "SEVEN_STEM", "STYLES", "draw_digit", "make_drawn_digits"}
    # No training template is a copy of a test template: each is at least 2 % of the digit height away from every
    # one of them (a copy would be within the 1 % resampling step).
    tests = {f"{d}/{v}": _points(strokes) for d, variants in TEMPLATES.items() for v, strokes in variants.items()}
    for digit, variants in TRAINING_TEMPLATES.items():
        for variant in variants:
            mine = _points(nominal(digit, variant))
            for name, theirs in tests.items():
                assert _hausdorff(mine, theirs) > 0.02, (f"{digit}/{variant}", name)
