"""A cap on the size of a request's body, for the events the page and the API send (JSON: a drawing's strokes, a
slider's z, training settings), as a small ASGI middleware that the app is served with (demo/app.py `launch`).

gradio's `max_file_size` covers uploads only: without this, any event accepts a body of any size, and the server
reads all of it and parses it as JSON before a handler can look at it (a drawing of megabytes was accepted). A body over
the cap is answered 413 with a message in gradio's shape ({"error": ...}) before anything parses it. Uploads keep
their own limit (`max_file_size`) and are not counted here.
"""
import json

# The pad's largest drawing (2,000 points, its strokes one text) is at most ~28 KB of JSON, a digit about 2 KB;
# every other event's body is under a few KB. What a body costs before any handler sees it (FastAPI parses it and
# gradio walks through it, on the server's event loop) grows with the number of values in it: a body of tens of
# thousands of numbers held the loop, and every visitor with it, for several times what the handler then took
# (docs/speed.md).
MAX_BODY_BYTES = 64_000
MAX_DRAIN_BYTES = 64_000_000  # a refused body is read to its end (up to this much) so that the client hears why
UPLOAD_PATHS = ("/upload", "/process_recording")  # gradio's file uploads: capped by max_file_size instead
METHODS_WITH_A_BODY = ("POST", "PUT", "PATCH")


def too_large_message(size, limit=MAX_BODY_BYTES, exact=True):
    return (f"The request is too large ({size:,} bytes{'' if exact else ' or more'}); the server accepts at most "
            f"{limit:,} bytes in one request (a drawing of 2,000 points is about 16,000).")


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` (by its Content-Length, or as it arrives) is refused with
    413 before the app reads it; a body within it is handed on unchanged."""

    def __init__(self, app, max_bytes=MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] not in METHODS_WITH_A_BODY
                or scope["path"].rstrip("/").endswith(UPLOAD_PATHS)):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._drain(receive, 0)
            return await self._refuse(send, int(declared), exact=True)
        chunks, size = [], 0
        while True:  # read the body here, counting (a chunked body declares no length)
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body"):
                    await self._drain(receive, size)
                return await self._refuse(send, size, exact=False)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body, handed = b"".join(chunks), False

        async def replay():
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect, when it comes

        await self.app(scope, replay, send)

    async def _drain(self, receive, size):
        """Read the rest of a refused body (discarding it): a client that is still sending when the server answers
        and closes would see its connection reset instead of the answer."""
        while size <= MAX_DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                return

    async def _refuse(self, send, size, exact):
        body = json.dumps({"error": too_large_message(size, self.max_bytes, exact)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
