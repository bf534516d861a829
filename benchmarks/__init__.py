"""python -m benchmarks: training speed (Pixyz against plain PyTorch, epochs, data share) and the demo's speed over
HTTP, in one run of at most 5 minutes on 2 CPU cores. Progress goes to stderr; one JSON object is printed last."""
