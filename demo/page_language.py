"""`?lang=ja` / `?lang=en` in the page's address opens the page in that language, whatever the browser's own.

The page's static texts are translated in the browser by gradio's i18n (demo/texts.py), which takes its language
from `navigator.language` once, as the page starts; a later change of it leaves texts already laid out (the tabs
not shown) in the first language. So the page itself is told: this small ASGI middleware (demo/app.py `launch`)
puts one line of script at the top of the page's HTML, before gradio's own scripts, that makes the browser's
language the one asked for. Only the page's HTML (GET /?lang=...) is touched; every other request passes as it is.
"""
from urllib.parse import parse_qs

from .texts import LANGUAGES

SCRIPT = ('<script>(() => {{ const lang = "{lang}"; '
          'Object.defineProperty(navigator, "language", {{get: () => lang}}); '
          'Object.defineProperty(navigator, "languages", {{get: () => [lang]}}); }})();</script>')


def chosen_language(scope):
    """The language `?lang=` asks for on a request for the page itself, else None."""
    page = ("", scope.get("root_path", "").rstrip("/"))
    if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].rstrip("/") not in page:
        return None
    asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang")
    return asked[-1] if asked and asked[-1] in LANGUAGES else None


class PageLanguage:
    """ASGI middleware: the page asked for with `?lang=` starts in that language (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        lang = chosen_language(scope)
        if lang is None:
            return await self.app(scope, receive, send)
        start, chunks = None, []

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            kind = dict(start["headers"]).get(b"content-type", b"")
            if kind.startswith(b"text/html") and b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + SCRIPT.format(lang=lang).encode(), 1)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
