"""What issue 17 changed in the pictures and records the page shows, without a browser: charts drawn on a dark frame
that suits both themes, the scatter plot's own legend, curves that start at their first real point, and the run
name's hint for the model's kind. (The browser journeys are in tests/test_browser_access.py.)"""
import types

import numpy as np

from demo import explore, train_tab

from colours import contrast, luminance


def rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_the_traversal_chart_is_dark_with_readable_labels(generator):
    chart = explore.traversal_chart(generator, 3, [0.0] * generator.z_dim)
    corner = chart.getpixel((1, 1))
    assert luminance(corner) < 0.05                                   # no white sheet on a dark page
    assert contrast(rgb(explore.CHART_TEXT), corner) >= 4.5
    labels = np.asarray(chart.crop((0, explore.HEADER_HEIGHT, explore.LABEL_WIDTH, chart.height)))
    assert (labels.max(-1) > 200).any()                               # the labels z1 ... are drawn, light


def test_the_confusion_matrix_is_dark_with_readable_counts():
    matrix = np.diag([100] * 10)
    matrix[3, 5] = 7
    image = train_tab.confusion_image(matrix)
    assert luminance(image.getpixel((1, 1))) < 0.05
    empty_cell = image.getpixel((34 + 34 * 2 + 17, 34 + 17))          # row 0, column 2: nothing there
    assert luminance(empty_cell) < 0.1
    assert contrast(rgb(train_tab.CONFUSION_TEXT), train_tab.CONFUSION_CELL) >= 4.5


def test_you_are_here_stands_out_on_both_themes_and_the_legend_names_every_series():
    for background in ((255, 255, 255), (0x0b, 0x0f, 0x19)):
        assert contrast(rgb(explore.HERE_COLOUR), background) >= 3    # a mark's contrast (WCAG 1.4.11)
    legend = explore.legend_html()
    assert all(f"</span> {d}</span>" in legend for d in range(10)) and explore.HERE in legend
    assert legend.count('role="listitem"') == 11


def snapshot(tests, losses):
    return types.SimpleNamespace(tests=tests, losses=losses, terms=[(step, 0.1 * v, 0.9 * v) for step, v in losses])


def test_the_curves_start_at_their_first_real_point():
    snap = snapshot([{"step": 0, "test_loss": 540.0, "test_accuracy": 0.1},
                     {"step": 120, "test_loss": 130.0, "test_accuracy": 0.9}], [(1, 500.0), (120, 140.0)])
    frame = train_tab.loss_frame(snap)
    test_points = frame[frame["curve"] == "test"]
    assert test_points["step"].tolist() == [120]                      # not the untrained model's point at step 0
    assert train_tab.accuracy_frame(snap)["step"].tolist() == [120]


def test_the_run_name_hint_fits_the_kind():
    assert "my-classifier" in train_tab.run_name_hint("classifier")
    assert "my-generator" in train_tab.run_name_hint("generator")
