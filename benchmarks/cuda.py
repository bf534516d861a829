"""Job: on a CUDA device, the step ratios and epoch times again, with the whole data set on the device."""
import torch

from . import epoch, step_ratio
from .common import load_data, log

KEYS = ["cuda"]


def run(sizes):
    if not torch.cuda.is_available():
        return {"cuda": None, "skipped": {"cuda": "no CUDA device (torch.cuda.is_available() is False)"}}
    data = load_data("cuda")
    log(f"cuda: {torch.cuda.get_device_name()}, data ({data.source}) on the device")
    out = {"device": torch.cuda.get_device_name(), "data": data.source}
    out.update(step_ratio.run(data, sizes, "cuda"))
    out.update(epoch.run(data, sizes, "cuda"))
    return {"cuda": out}
