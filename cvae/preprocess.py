"""Any picture of a digit -> what model 2 was trained on: a 28 x 28 MNIST-style image.

A sketchpad gives a large canvas with the digit anywhere and of any size, either as an RGBA layer (dark ink on
transparency) or as a composite (dark ink on white); people also upload photos and scans of ink on paper, and
MNIST-like light-on-dark images. MNIST itself was made by fitting each digit's box into 20 x 20 and centring it
by centre of mass in 28 x 28, so we do the same after finding the ink.
"""
import os
import struct

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.nn import functional as F

MAX_PIXELS = 40_000_000        # larger images are refused before they are decoded (see `open_image`)
WORK_SIZE = 80                 # the digit's longer side while its stroke width is normalised (4 x 20)
TARGET_STROKE = 10.0           # stroke width at WORK_SIZE: 2.5 px at 20 px, as in MNIST
BLANK_INK = 0.2                # an image whose strongest ink is below this is blank
WORK_LIMIT = 320               # larger pictures are first shrunk by area averaging: the digit ends at 20 px


Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # PIL itself then refuses bombs over twice this size


class ImageError(ValueError):
    """An input that is not a usable image; the message says why, in words a user understands."""


def open_image(source):
    """A path or file object -> a decoded PIL image, upright, refusing decompression bombs and non-images: the size
    is read from the header and checked before any pixel is decoded."""
    try:
        with Image.open(source) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ImageError(f"the image is too large ({im.width} x {im.height}); "
                                 f"at most {MAX_PIXELS // 1_000_000} megapixels")
            im.load()
            return upright(im)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"the image is too large; at most {MAX_PIXELS // 1_000_000} megapixels") from None
    except (OSError, SyntaxError, ValueError) as e:  # PIL's errors for non-images and truncated files
        reason = str(e).replace(str(source), "the file") if isinstance(source, (str, os.PathLike)) else str(e)
        raise ImageError(f"this file could not be read as an image ({reason})") from None


def upright(image):
    """A copy of `image` turned as its EXIF Orientation says it is to be seen: a phone keeps a photo as its sensor
    took it and only notes the turn (a 1 photographed with the phone held upright is stored lying on its side, tag
    6). An orientation tag that cannot be read leaves the image as it is stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, struct.error):
        return image.copy()


def _shrink_factor(width, height):
    return max(1, -(-max(width, height) // WORK_LIMIT))


def _to_float_array(image):
    """PIL image or array -> float array (H, W) grey and (H, W) alpha, both in [0, 1], at most about
    WORK_LIMIT px on a side (shrunk by area averaging, which keeps thin strokes as lighter ink)."""
    if isinstance(image, Image.Image):
        if image.width * image.height > MAX_PIXELS:
            raise ImageError(f"the image is too large ({image.width} x {image.height})")
        f = _shrink_factor(image.width, image.height)
        if f > 1:
            if image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
                image = image.convert("RGBA")
            image = image.reduce(f)
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            a = np.asarray(image, dtype=np.float64)
            a = a / 65535.0 if a.max() > 255 else a / 255.0
            return np.clip(a, 0, 1), np.ones_like(a)
        if image.mode == "F":
            a = np.asarray(image, dtype=np.float64)
            return np.clip(a / (255.0 if a.max() > 1 else 1.0), 0, 1), np.ones_like(a)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        return grey, (rgba[..., 3] if has_alpha else np.ones_like(grey))
    a = np.asarray(image)
    if a.dtype == object or a.size == 0 or a.ndim not in (2, 3):
        raise ImageError("expected an image: a 2-D grey or 3-D colour array")
    if a.ndim == 3 and a.shape[-1] not in (1, 2, 3, 4):
        raise ImageError(f"expected 1 to 4 channels, got {a.shape[-1]}")
    if a.size > MAX_PIXELS * 4:
        raise ImageError(f"the image is too large ({a.shape[1]} x {a.shape[0]})")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ImageError("the image holds NaN or infinite values")
    if a.max() > 1.0:
        a = a / (65535.0 if a.max() > 255 else 255.0)
    a = np.clip(a, 0, 1)
    f = _shrink_factor(a.shape[1], a.shape[0])
    if f > 1:
        h, w = a.shape[0] // f * f, a.shape[1] // f * f
        a = a[:h, :w].reshape(h // f, f, w // f, f, *a.shape[2:]).mean((1, 3))
    if a.ndim == 2:
        return a, np.ones_like(a)
    c = a.shape[-1]
    alpha = a[..., -1] if c in (2, 4) else np.ones(a.shape[:2])
    colour = a[..., :3] if c >= 3 else a[..., :1]
    grey = colour @ np.array([0.299, 0.587, 0.114]) if colour.shape[-1] == 3 else colour[..., 0]
    return grey, alpha


def _box_blur(a, radius):
    t = torch.from_numpy(a)[None, None].float()
    k = 2 * radius + 1
    return F.avg_pool2d(F.pad(t, (radius,) * 4, mode="replicate"), k, 1)[0, 0].double().numpy()


def ink_map(image):
    """The ink of a picture as (H, W) in [0, 1], whatever its form: alpha for a layer on transparency, darkness
    against the local paper for ink on paper (even when lit unevenly), brightness for light-on-dark."""
    grey, alpha = _to_float_array(image)
    if alpha.min() < 0.98:  # transparency carries the drawing; the colour of the ink says its polarity
        inked = alpha > 0.5
        dark_ink = not inked.any() or np.median(grey[inked]) < 0.5
        ink = alpha * (1 - grey if dark_ink else grey)
        if ink.max() < BLANK_INK:  # ink of a light colour on transparency, drawn over a light background
            ink = alpha
        return np.clip(ink, 0, 1)
    # No transparency: the background is the border's typical value.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) < 0.5:  # light ink on a dark background, as MNIST
        grey, border = 1 - grey, 1 - border
    # Ink is what is darker than the paper around it; the paper is estimated by a wide blur of the image with the
    # dark parts filled in (a max filter first), so that shadows and gradients on a photo are not taken for ink.
    h, w = grey.shape
    radius = max(2, min(h, w) // 16)
    if min(h, w) >= 64:
        small = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize((max(1, w // 4), max(1, h // 4)),
                                                                                  Image.BILINEAR), float) / 255
        r = max(1, radius // 4)
        t = torch.from_numpy(small)[None, None].float()
        paper = F.max_pool2d(F.pad(t, (r,) * 4, mode="replicate"), 2 * r + 1, 1)[0, 0].double().numpy()
        paper = _box_blur(paper, r)
        paper = np.asarray(Image.fromarray(paper.astype(np.float32)).resize((w, h), Image.BILINEAR), float)
        paper = np.maximum(paper, grey)
    else:
        paper = np.full_like(grey, np.median(border))
    dark = np.clip(paper - grey, 0, 1)
    top = np.percentile(dark[dark > 0.05], 95) if (dark > 0.05).sum() > 0 else dark.max()
    if top < BLANK_INK:
        return np.zeros_like(grey)
    ink = dark / top
    # Paper grain and sensor noise stay below a fifth of the ink's strength.
    ink = np.clip((ink - 0.2) / 0.6, 0, 1)
    return ink


def _stroke_width(mask):
    """Approximate stroke width of a binary drawing: area over half its boundary length."""
    m = torch.from_numpy(mask)[None, None].float()
    eroded = -F.max_pool2d(-F.pad(m, (1, 1, 1, 1)), 3, 1)
    boundary = (m - eroded).sum().item()
    return 2 * m.sum().item() / max(boundary, 1.0)


def to_mnist_image(image):
    """Any digit picture -> torch.float32 (28, 28) in [0, 1], light ink on black as MNIST; None when blank.

    Take the ink, crop it, scale its longer side to 20 px (with the stroke width brought to MNIST's), and centre
    it by centre of mass in 28 x 28. Raises ImageError for inputs that are not images.
    """
    if isinstance(image, dict):  # a Gradio ImageEditor value: composite, or layers over a background
        image = composite_of(image)
        if image is None:
            return None
    ink = ink_map(image)
    if ink.max() < BLANK_INK:
        return None
    ys, xs = np.nonzero(ink > 0.1)
    if len(ys) < 2:
        return None
    crop = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = crop.shape
    if max(h, w) < 3.5 * _stroke_width((crop > 0.35).astype(np.float32)):
        raise ImageError("only a dot was found: draw a whole digit")
    # Bring the longer side to WORK_SIZE by area averaging (keeps the ink's mass), then set the stroke width.
    s = WORK_SIZE / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    work = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.BOX if s < 1 else Image.BILINEAR),
                      dtype=np.float64)
    work = np.clip(work / max(work.max(), 1e-6), 0, 1)
    width = _stroke_width((work > 0.35).astype(np.float32))
    if width < TARGET_STROKE * 0.8:
        k = int(round(TARGET_STROKE - width)) | 1  # odd kernel: grows the stroke by about k - 1 px
        t = torch.from_numpy(work)[None, None].float()
        work = F.max_pool2d(F.pad(t, (k // 2,) * 4), k, 1)[0, 0].double().numpy()
    # Into 20 x 20 (the longer side), then centred by centre of mass in 28 x 28, as MNIST was made.
    s20 = 20 / max(work.shape)
    size = (max(1, round(work.shape[1] * s20)), max(1, round(work.shape[0] * s20)))
    small = np.asarray(Image.fromarray(work.astype(np.float32)).resize(size, Image.BOX), dtype=np.float64)
    small = np.clip(small / max(small.max(), 1e-6), 0, 1)
    out = np.zeros((28, 28))
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    out[top: top + size[1], left: left + size[0]] = small
    total = out.sum()
    cy = (out.sum(1) * np.arange(28)).sum() / total
    cx = (out.sum(0) * np.arange(28)).sum() / total
    dy = int(np.clip(round(13.5 - cy), -top, 28 - top - size[1]))
    dx = int(np.clip(round(13.5 - cx), -left, 28 - left - size[0]))
    out = np.roll(out, (dy, dx), axis=(0, 1))
    return torch.from_numpy(out).float()


def composite_of(value):
    """A Gradio ImageEditor/Sketchpad value {"background", "layers", "composite"} -> one image, or None if empty.
    The composite is used when there is one; else the layers are flattened over the background."""
    composite = value.get("composite")
    if composite is not None:
        return composite
    parts = [p for p in [value.get("background"), *(value.get("layers") or [])] if p is not None]
    if not parts:
        return None
    images = [p if isinstance(p, Image.Image) else Image.fromarray(np.asarray(p).astype(np.uint8)) for p in parts]
    base = Image.new("RGBA", images[0].size, (255, 255, 255, 0))
    for im in images:
        base.alpha_composite(ImageOps.fit(im.convert("RGBA"), base.size) if im.size != base.size else im.convert("RGBA"))
    return base


def to_grid_image(images, nrow=8, pad=2):
    """(N, 28, 28) in [0, 1] -> one greyscale PIL grid, light digits on black as MNIST."""
    images = torch.as_tensor(images).detach().cpu().float().clamp(0, 1)
    n = len(images)
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = torch.zeros(nrows * (28 + pad) + pad, ncol * (28 + pad) + pad)
    for i, im in enumerate(images):
        r, c = divmod(i, ncol)
        top, left = pad + r * (28 + pad), pad + c * (28 + pad)
        grid[top: top + 28, left: left + 28] = im
    return Image.fromarray((grid * 255).round().byte().numpy(), mode="L")
