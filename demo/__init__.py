"""The Gradio demo of the two conditional VAEs: `python -m demo`."""
