"""Ten digits as a person draws them on the pad: strokes of points in a unit box (x to the right, y down), for the
Draw tab's tests to trace with the mouse, a finger or a pen (tests/test_browser_draw.py) and to check without a
browser (tests/test_draw_tab.py)."""
import math


def arc(cx, cy, rx, ry, start_deg, end_deg, n=16):
    """Points on an ellipse from start_deg to end_deg (0 = right, 90 = down, as on screen)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in (start_deg + (end_deg - start_deg) * i / (n - 1) for i in range(n))]


DIGITS = {
    0: [arc(0.5, 0.5, 0.28, 0.42, -100, 265, 24)],
    1: [[(0.52, 0.08), (0.5, 0.92)]],
    2: [arc(0.48, 0.3, 0.25, 0.22, 200, 380, 10) + [(0.6, 0.5), (0.25, 0.9), (0.78, 0.9)]],
    3: [arc(0.47, 0.28, 0.25, 0.2, 200, 450, 12)[:-1] + arc(0.47, 0.7, 0.28, 0.22, -90, 160, 12)],
    4: [[(0.38, 0.08), (0.22, 0.6), (0.8, 0.6)], [(0.64, 0.3), (0.64, 0.95)]],
    5: [[(0.72, 0.1), (0.32, 0.1), (0.28, 0.45)] + arc(0.48, 0.66, 0.27, 0.25, -120, 150, 14)],
    6: [[(0.66, 0.08), (0.45, 0.3)] + arc(0.5, 0.68, 0.24, 0.24, 200, 560, 20)],
    7: [[(0.22, 0.12), (0.8, 0.12), (0.42, 0.92)]],
    8: [[(0.5 + 0.24 * math.sin(2 * t), 0.5 - 0.42 * math.cos(t)) for t in (2 * math.pi * i / 32 for i in range(33))]],
    9: [arc(0.48, 0.3, 0.22, 0.2, 0, 360, 18) + [(0.7, 0.3), (0.66, 0.92)]],
}


def to_pad(points, size=560, margin=0.15):
    """Unit-box points -> the pad's own pixel coordinates (as the page sends them), the digit filling most of it."""
    return [[round(size * (margin + (1 - 2 * margin) * x)), round(size * (margin + (1 - 2 * margin) * y))]
            for x, y in points]


def pad_value(digit, seq=1, size=560, brush=22):
    """The pad's value for one of DIGITS, as demo/sketchpad.js sends it."""
    return drawing([to_pad(s, size) for s in DIGITS[digit]], seq, size, brush)


def drawing(strokes, seq=1, size=560, brush=22):
    """The pad's value for `strokes` (lists of (x, y) in the pad's pixels), as demo/sketchpad.js sends it."""
    from demo.draw_tab import strokes_text
    return {"seq": seq, "size": [size, size], "brush": brush, "strokes": strokes_text(strokes)}
