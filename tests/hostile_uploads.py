"""(Helpers, not tests.) Hostile model uploads that cost nothing to make, and the peak memory a load_upload of one
costs, measured in a fresh process so that nothing else the tests hold counts:

    python tests/hostile_uploads.py GOOD.zip '[["a.safetensors", "a.json"], ["b.zip"]]'
        -> one JSON line: a list of {"peak_growth_mb", "maxrss_growth_mb", "error"}, one per upload, in turn

The peak is the largest resident set seen by a thread sampling it every millisecond (psutil), less the resident set
just before the upload (after a first, good upload has loaded everything a load needs); ru_maxrss's growth is
printed beside it, as a check that the sampling missed no short peak."""
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def huge_architecture_pair(folder):
    """A 3 KB JSON saying z_dim = hidden = 4096 beside an 80-byte safetensors: a model of gigabytes, on paper."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"kind": "generator", "arch": "conv", "z_dim": 4096, "hidden": 4096, "notes": "x" * 3000}
    (folder / "big.json").write_text(json.dumps(meta))
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    header += b" " * (72 - len(header) - 8)  # 8 + header + 8 data bytes = 80
    (folder / "big.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    return [folder / "big.safetensors", folder / "big.json"]


def zip_bomb(path, unpacked=1 << 30, claimed=9_953_212):
    """A ~1 MB zip whose .safetensors member unpacks to `unpacked` bytes of zeros while its headers claim `claimed`
    (the shipped generator's size), beside a small JSON."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros, body, crc = bytes(1 << 20), [], 0
    for _ in range(unpacked >> 20):
        body.append(deflate.compress(zeros))
        crc = zlib.crc32(zeros, crc)
    body = b"".join(body) + deflate.flush()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m.json", json.dumps({"kind": "generator", "arch": "conv", "z_dim": 10, "hidden": 512}))
        info = zipfile.ZipInfo("m.safetensors")
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, b"")  # a placeholder member, rewritten below with the bomb's bytes
    raw = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as z:
        member = z.getinfo("m.safetensors")
    local = member.header_offset
    name_len, extra_len = struct.unpack("<HH", raw[local + 26:local + 30])
    data_at = local + 30 + name_len + extra_len
    old_len = member.compress_size
    struct.pack_into("<III", raw, local + 14, crc, len(body), claimed)
    raw[data_at:data_at + old_len] = body
    grown = len(body) - old_len
    directory = raw.rfind(b"PK\x01\x02")  # the bomb is the last member: its directory entry is the last one
    struct.pack_into("<III", raw, directory + 16, crc, len(body), claimed)
    end = raw.rfind(b"PK\x05\x06")
    (cd_offset,) = struct.unpack("<I", raw[end + 16:end + 20])
    struct.pack_into("<I", raw, end + 16, cd_offset + grown)
    Path(path).write_bytes(bytes(raw))
    return path


def peak_growth(uploads, good_upload):
    """Run this file in a fresh process on each upload of `uploads` (lists of paths) in turn; its answers."""
    args = [str(good_upload), json.dumps([[str(p) for p in paths] for paths in uploads])]
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(good_upload, uploads):
    sys.path.insert(0, os.getcwd())  # the code under test: the checkout it is run in
    from demo.runs import load_upload
    load_upload([good_upload])  # everything a load needs is imported and warmed up before the baseline
    return [_measure_one(paths, load_upload) for paths in uploads]


def _measure_one(paths, load_upload):
    import resource

    import psutil

    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.001)

    before, maxrss_before = process.memory_info().rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak[0] = before
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    error = None
    try:
        load_upload(paths)
    except Exception as e:  # noqa: BLE001 - reported, the caller asserts on it
        error = f"{type(e).__name__}: {e}"
    done.set()
    sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_growth_mb": round((peak[0] - before) / 2**20, 1),
            "maxrss_growth_mb": round((maxrss_after - maxrss_before) / 1024, 1), "error": error}


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], json.loads(sys.argv[2]))))
