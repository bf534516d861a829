"""Hugging Face Spaces entry point (README front matter): the app of `python -m demo`.
A Space must listen on every interface; everywhere else the default stays 127.0.0.1."""
import os

from demo.__main__ import main

if os.environ.get("SPACE_ID"):
    os.environ.setdefault("CVAE_HOST", "0.0.0.0")
main([])
