"""The page's stylesheets, scripts and HTML: files beside the modules that lay the page out (demo/*.css, *.js,
*.html), read as the page is built."""
from pathlib import Path

HERE = Path(__file__).resolve().parent


def page_file(name, **values):
    """The text of demo/`name` with each placeholder __KEY__ in it replaced by str(values["key"]): how a Python
    value (a size, a limit, a text of demo/texts.py) reaches a stylesheet, a script or HTML. A value without its
    placeholder in the file is an error, so that a renamed placeholder cannot be missed."""
    text = (HERE / name).read_text(encoding="utf-8")
    for key, value in values.items():
        placeholder = f"__{key.upper()}__"
        if placeholder not in text:
            raise KeyError(f"no {placeholder} in demo/{name}")
        text = text.replace(placeholder, str(value))
    return text
