"""Save a contact sheet of the drawn digits (cvae/drawn_digits.py): one thumbnail each, labelled.

Usage: python scripts/preview_drawn_digits.py OUT.png [--per-digit 30] [--seed 0] [--thumb 96]
       python scripts/preview_drawn_digits.py OUT.png --styles [--per-style 10]
       python scripts/preview_drawn_digits.py OUT.png --style-data 100   (training images of cvae.style_data)

Transparent layers are shown on a light checkerboard so the alpha is visible; rows are samples, columns digits
(with --styles: columns are the styles of drawn_digits.STYLES).
"""
import argparse
import os
import sys
import time

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cvae.drawn_digits import STYLES, make_drawn_digits, make_style_digits  # noqa: E402

FORM_TAGS = {"layer": "L", "composite": "C", "photo": "P", "mnist_like": "M"}


def thumbnail(image, side):
    if image.mode == "RGBA":
        board = Image.new("RGB", image.size, (235, 235, 235))
        tile = max(4, min(image.size) // 16)
        draw = ImageDraw.Draw(board)
        for x in range(0, image.width, tile):
            for y in range(0, image.height, tile):
                if (x // tile + y // tile) % 2:
                    draw.rectangle((x, y, x + tile - 1, y + tile - 1), fill=(205, 205, 205))
        board.paste(image, mask=image.getchannel("A"))
        image = board
    image = image.convert("RGB")
    image.thumbnail((side, side), Image.BILINEAR if min(image.size) > side else Image.NEAREST)
    if max(image.size) < side:  # small mnist-like images: enlarge so they can be seen
        factor = side / max(image.size)
        image = image.resize((round(image.width * factor), round(image.height * factor)), Image.NEAREST)
    return image


def contact_sheet(samples, side=120, columns=10):
    label_h = 12
    rows = (len(samples) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (side + 4), rows * (side + label_h + 4)), (90, 90, 90))
    draw = ImageDraw.Draw(sheet)
    for k, sample in enumerate(samples):
        x, y = (k % columns) * (side + 4) + 2, (k // columns) * (side + label_h + 4) + 2
        thumb = thumbnail(sample.image, side)
        sheet.paste(thumb, (x + (side - thumb.width) // 2, y + (side - thumb.height) // 2))
        variant = sample.note.split()[0].split("/")[1]
        size = "x".join(map(str, sample.image.size))
        draw.text((x, y + side + 1), f"{sample.digit} {FORM_TAGS[sample.form]} {variant[:7]} {size}",
                  fill=(255, 255, 160))
    return sheet


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--per-digit", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--thumb", type=int, default=120)
    parser.add_argument("--styles", action="store_true", help="the style-balanced set (make_style_digits)")
    parser.add_argument("--per-style", type=int, default=10)
    parser.add_argument("--style-data", type=int, metavar="N", help="N training images of cvae.style_data")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.style_data:
        from cvae.preprocess import to_grid_image
        from cvae.style_data import style_digits
        x, y = style_digits(args.style_data, args.seed)
        order = y.argsort(stable=True)  # one digit after another
        print(f"rendered {len(x)} training images in {time.perf_counter() - start:.1f} s")
        to_grid_image(x[order].view(-1, 28, 28), nrow=20).resize((20 * 30 * 3 + 6, -(-len(x) // 20) * 30 * 3 + 6),
                                                                 Image.NEAREST).save(args.out)
        print(f"wrote {args.out}")
        sys.exit()
    if args.styles:
        samples = make_style_digits(args.per_style, args.seed)
        columns = len(STYLES)
    else:
        samples = make_drawn_digits(args.per_digit, args.seed)
        columns = 10
    print(f"rendered {len(samples)} drawings in {time.perf_counter() - start:.1f} s")
    contact_sheet(samples, args.thumb, columns).save(args.out)
    print(f"wrote {args.out}")
