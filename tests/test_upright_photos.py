"""A phone photo is stored as the sensor took it, with an EXIF Orientation tag that says how to turn it: uploads are
read the way they are meant to be seen (cvae.preprocess.open_image), directly and over HTTP."""
import io

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from cvae.preprocess import open_image
from demo import handlers as h

ORIENTATION = 0x0112  # the EXIF tag; 6: turn the stored picture 90 degrees clockwise to see it upright


def upright_seven():
    """A 7 as a person writes it, dark ink on white, taller than wide (so that a turn shows in its size)."""
    image = Image.new("RGB", (300, 400), "white")
    ImageDraw.Draw(image).line([(60, 80), (240, 80), (150, 330)], fill="black", width=26, joint="curve")
    return image


def sideways_jpeg(image, orientation=6):
    """`image` as a phone held upright stores it: turned 90 degrees counter-clockwise, with the tag that turns it
    back (or none, `orientation=None`)."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    data = io.BytesIO()
    image.rotate(90, expand=True).save(data, "JPEG", quality=90, exif=exif)
    return data.getvalue()


@pytest.fixture
def sideways_seven(tmp_path):
    path = tmp_path / "phone-photo.jpg"
    path.write_bytes(sideways_jpeg(upright_seven()))
    return path


def test_a_sideways_jpeg_is_opened_upright(sideways_seven):
    stored = Image.open(sideways_seven)
    assert stored.size == (400, 300) and stored.getexif()[ORIENTATION] == 6  # the test's photo is as a phone's
    image = open_image(sideways_seven)
    assert image.size == (300, 400)
    ink = np.asarray(image.convert("L")) < 128
    expected = np.asarray(upright_seven().convert("L")) < 128
    assert (ink != expected).mean() < 0.01  # the same pixels as the upright drawing, up to JPEG's noise


def test_a_sideways_photo_of_a_seven_is_read_as_a_seven(classifier, sideways_seven, tmp_path):
    label, _ = h.classify(classifier, h.read_upload(str(sideways_seven)))
    assert h.predicted_digit(label) == 7, label
    untagged = tmp_path / "untagged.jpg"  # the same pixels without the tag: not a 7, so the tag is what counts
    untagged.write_bytes(sideways_jpeg(upright_seven(), orientation=None))
    label, _ = h.classify(classifier, h.read_upload(str(untagged)))
    assert h.predicted_digit(label) != 7, label


def test_an_unreadable_orientation_leaves_the_picture_as_stored(tmp_path):
    path = tmp_path / "odd.jpg"
    path.write_bytes(sideways_jpeg(upright_seven(), orientation=77))  # no such orientation
    assert open_image(path).size == (400, 300)


def test_over_http_a_sideways_photo_is_read_upright(served_app, sideways_seven):
    """The /classify endpoint, as an API client uploads a phone photo."""
    client = Client(served_app[0], verbose=False)
    try:
        label, seen = client.predict(handle_file(str(sideways_seven)), api_name="/classify")
    finally:
        client.close()
    assert label["label"] == "7", label
