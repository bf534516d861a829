"""The pictures the app sends: each one a PNG written once, complete, under a name of its own, in the app's own folder
inside gradio's cache; the page's outputs and the API's return those paths (gr.Image takes a filepath).

Why not return the PIL image and let gradio save it: gradio 6 saves a PIL image under a name made from its bytes
(`gradio.processing_utils.save_pil_to_cache`) and rewrites that file on every call. Two requests that make the same
picture (two visitors at zero z, the page's first picture asked for again) then write the file while a third streams
it, and that download breaks: `h11 LocalProtocolError: Too little data for declared Content-Length` on the server,
`RemoteProtocolError` on the client, even with a few sequential clients. A file that is written under a fresh name
and renamed into place before its path is returned is never written again, so it cannot change while it is read.

The folder is inside gradio's cache (GRADIO_TEMP_DIR, else /tmp/gradio), so gradio serves the files as they are,
without hashing and copying them again; gradio adds each one to its list of the app's files and deletes it on the
app's `delete_cache` schedule (see demo/app.py), as it does its own. The page's first pictures are kept (gradio keeps
a component's first value); the folder itself is removed when the process ends.
"""
import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from gradio.utils import get_upload_folder

PNG_COMPRESS_LEVEL = 1      # zlib level: 1 writes a grid much faster than PIL's 6, for a few more bytes
PREFIX = "cvae-demo-"


class PictureStore:
    """save(PIL image) -> the path of a new PNG file that nobody else writes."""

    def __init__(self, root=None):
        base = Path(root or get_upload_folder())
        base.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base)).resolve()
        atexit.register(shutil.rmtree, self.folder, True)

    def save(self, image):
        """Write `image` as PNG under a fresh name and return its path; None stays None (an empty output)."""
        if image is None:
            return None
        name = f"{uuid.uuid4().hex}.png"
        staging = self.folder / f".{name}.part"
        try:
            image.save(staging, "PNG", compress_level=PNG_COMPRESS_LEVEL)
            os.replace(staging, self.folder / name)  # complete before anyone can know the name
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        return str(self.folder / name)

    def new_path(self, name):
        """A path for a file the app is about to write under `name` (a download's name), in a folder of its own."""
        folder = self.folder / uuid.uuid4().hex
        folder.mkdir()
        return folder / name

    def __contains__(self, path):
        return path is not None and self.folder in Path(path).resolve().parents
