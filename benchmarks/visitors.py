"""Job: many visitors at once, each doing what the page does (a z slider dragged, a digit drawn: the page's own
requests, one in flight per visitor), from a process of their own (benchmarks/visitor_client.py); with 10 and with
40 visitors; then 10 again while one abusive client runs beside them: the costliest drawing the limits allow, sent
again and again (`costly_drawing`), or the whole queue filled with /train joins from one session (`train_flood`,
last: the trainings it queued may outlast it).

Per phase: the slider's and the drawing's p50 and p95 in ms, errors, answers per second (all visitors together);
`*_slowdown`: the worst ratio of the others' p95 (slider or drawing) with the abuser to without it (the target: at
most 2), "without it" measured in the phase just before (a 10-visitor phase of its own before the flood: a shared
machine's speed drifts over minutes, and a baseline from earlier would measure the drift); for the flood, how many
of its joins the queue took and whether a second visitor's /grid (through the queue, once a second) was still
answered. The load client shares the machine's cores with the server: on a
2-core machine its own work is part of what is measured.
"""
import json
import subprocess
import sys
import tempfile

import numpy as np

from .app_server import ROOT
from .common import log, ms

SMALL, LARGE = 10, 40
PHASES = [  # (key prefix, visitors, abuser)
    (f"visitors{LARGE}", LARGE, "none"),
    (f"visitors{SMALL}", SMALL, "none"),
    (f"visitors{SMALL}_costly_drawing", SMALL, "costly-drawing"),
    (f"visitors{SMALL}_train_flood", SMALL, "train-flood"),
]
FIGURES = ["slider_p50_ms", "slider_p95_ms", "drawing_p50_ms", "drawing_p95_ms", "errors", "answers_per_s"]
KEYS = ([f"{prefix}_{figure}" for prefix, _, _ in PHASES for figure in FIGURES]
        + [f"{prefix}_slowdown" for prefix, _, abuser in PHASES if abuser != "none"])


def percentile_ms(seconds, q):
    return ms(float(np.percentile(seconds, q))) if seconds else None


def run_phase(app, visitors, seconds, abuser):
    """The visitor client's JSON for one phase (see benchmarks/visitor_client.py)."""
    command = [sys.executable, "-m", "benchmarks.visitor_client", app.url, "--visitors", str(visitors),
               "--seconds", str(seconds), "--abuser", abuser]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as drawing:
        if abuser == "costly-drawing":
            from .visitor_client import costliest_drawing
            json.dump(costliest_drawing(1), drawing)
            drawing.flush()
            command += ["--costly-drawing", drawing.name]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"the visitor client failed: {' '.join(done.stderr.split())[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figures(result):
    times = result["times"]
    answers = sum(len(times.get(kind, [])) for kind in ("slider", "drawing"))
    out = {"errors": sum(not e.startswith(("abuser", "grid")) for e in result["errors"]),
           "answers_per_s": round(answers / result["wall_s"], 1)}
    for kind in ("slider", "drawing"):
        out[f"{kind}_p50_ms"] = percentile_ms(times.get(kind, []), 50)
        out[f"{kind}_p95_ms"] = percentile_ms(times.get(kind, []), 95)
    return out


def run(app, requests, sizes):
    out, skipped, detail = {}, {}, {}
    just_before = {}  # visitors -> the figures of the phase without an abuser run just before
    for prefix, visitors, abuser in PHASES:
        if abuser != "none" and visitors not in just_before:
            just_before[visitors] = figures(run_phase(app, visitors, sizes.visitors_seconds, "none"))
        result = run_phase(app, visitors, sizes.visitors_seconds, abuser)
        phase = figures(result)
        out.update({f"{prefix}_{k}": v for k, v in phase.items()})
        extra = {"error_examples": sorted(set(result["errors"]))[:3]}
        if abuser == "costly-drawing":
            abuser_times = result["times"].get("abuser", [])
            extra.update(abuser_answers=len(abuser_times), abuser_p95_ms=percentile_ms(abuser_times, 95))
        if abuser == "train-flood":
            grid = result["times"].get("grid", [])
            extra.update(flood_joins=result["flood"], grid_answers=len(grid), grid_p95_ms=percentile_ms(grid, 95),
                         grid_errors=sum(e.startswith("grid") for e in result["errors"]))
        if abuser == "none":
            just_before[visitors] = phase
        else:
            base = extra["without_abuser"] = just_before.pop(visitors)
            ratios = [phase[f"{kind}_p95_ms"] / base[f"{kind}_p95_ms"] for kind in ("slider", "drawing")
                      if phase.get(f"{kind}_p95_ms") and base.get(f"{kind}_p95_ms")]
            out[f"{prefix}_slowdown"] = round(max(ratios), 2) if ratios else None
            if not ratios:
                skipped[f"{prefix}_slowdown"] = "no answers to compare"
        detail[prefix] = extra
        log(f"{prefix}: {phase} {extra}")
    for key in KEYS:
        if out.get(key) is None and key not in skipped:
            skipped[key] = "no answers of this kind in the phase"
    return {**out, "visitors_detail": detail, "visitors_seconds": sizes.visitors_seconds, "skipped": skipped}
