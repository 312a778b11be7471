"""Issue 12 item 4: a tiny PNG claiming 40 megapixels is decoded reduced, each decode holds
its share of one process-wide budget until its pixels are freed, and a spent budget makes
others wait or answers Busy (503). Peak memory with 16 at once is guarded in a subprocess;
the figure itself comes from bench/decode_storm.py."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegate.api.errors import status_for
from facegate.config import RecognitionSettings
from facegate.errors import Busy
from facegate.recognition import budget, decode_image
from facegate.recognition.budget import MIB, DecodeBudget

SRC = str(Path(__file__).resolve().parents[3] / "src")


def png(side: int, mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (side, side), 180 if mode == "L" else (200, 180, 160)).save(buf, "PNG")
    return buf.getvalue()


def jpeg(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(buf, "JPEG", quality=40)
    return buf.getvalue()


def test_a_40_megapixel_png_is_decoded_reduced_to_the_decode_budget() -> None:
    limits = RecognitionSettings()
    image = decode_image(png(6300), limits=limits)
    assert image.width * image.height <= limits.decode_pixels
    assert (image.width, image.height) == (3150, 3150) and image.scale == 0.5
    assert image.pixels[100, 100].tolist() == [200, 180, 160]  # colours survive the box filter


def test_a_large_jpeg_is_scaled_by_the_decoder_and_small_photos_are_untouched() -> None:
    limits = RecognitionSettings(decode_pixels=4_000_000)
    image = decode_image(jpeg(6000, 4000), limits=limits)
    assert image.width * image.height <= 4_000_000 and image.width == 1500  # 1/4 in the DCT
    small = decode_image(jpeg(1200, 900), limits=limits)
    assert (small.width, small.height, small.scale) == (1200, 900, 1.0)


def test_the_output_holds_its_share_until_it_is_freed() -> None:
    pool = budget.shared(512, 15.0)
    gc.collect()
    before, pool.peak = pool.in_use, 0
    image = decode_image(png(4000, "L"))
    held = pool.in_use - before
    # the pixels and the detection that will run on them, not the decoder's buffer
    assert image.pixels.nbytes < held <= image.pixels.nbytes + 64 * MIB
    assert pool.peak - before > held
    del image
    gc.collect()
    assert pool.in_use == before


def test_a_spent_budget_makes_others_wait_then_busy() -> None:
    pool = DecodeBudget(100 * MIB, wait_s=0.2)
    outcome: list[object] = []

    def other() -> None:
        try:
            with pool.reserve(60 * MIB):
                outcome.append("ran")
        except Busy as err:
            outcome.append(err)

    with pool.reserve(60 * MIB):
        waiter = threading.Thread(target=other)
        waiter.start()
        waiter.join()
    assert isinstance(outcome[0], Busy) and status_for(outcome[0]) == 503
    released = threading.Thread(target=other)  # once released, the same request runs
    released.start()
    released.join()
    assert outcome[1] == "ran" and pool.in_use == 0


def test_a_waiting_decode_runs_when_the_budget_frees() -> None:
    pool = DecodeBudget(100 * MIB, wait_s=30)
    started, done = threading.Event(), threading.Event()
    lease_owner = np.zeros(10)

    def other() -> None:
        started.set()
        with pool.reserve(60 * MIB):
            done.set()

    with pool.reserve(60 * MIB) as lease:
        lease.keep(lease_owner, 60 * MIB)
    waiter = threading.Thread(target=other)
    waiter.start()
    started.wait()
    assert not done.wait(0.2)  # still held by lease_owner's pixels
    del lease_owner
    gc.collect()
    waiter.join(10)
    assert done.is_set() and pool.in_use == 0


def test_a_thread_holding_photos_never_waits_for_itself_and_a_huge_one_runs_alone() -> None:
    pool = DecodeBudget(100 * MIB, wait_s=0.1)
    owner = np.zeros(10)
    with pool.reserve(80 * MIB) as lease:
        lease.keep(owner, 80 * MIB)
    with pool.reserve(80 * MIB):  # a batch caller decoding its next photo: no deadlock
        assert pool.in_use == 160 * MIB
    del owner
    gc.collect()
    with pool.reserve(500 * MIB):  # larger than the budget, but alone: it runs
        assert pool.peak >= 500 * MIB


_STORM = """
import io, json, resource, threading, sys
from PIL import Image
from facegate.config import RecognitionSettings
from facegate.recognition import decode_image, working_copy
buf = io.BytesIO(); Image.new("RGB", (6300, 6300), (200, 180, 160)).save(buf, "PNG")
data = buf.getvalue()
limits = RecognitionSettings(decode_budget_mb=256, decode_wait_s=300)
small = io.BytesIO(); Image.new("RGB", (64, 64)).save(small, "PNG"); decode_image(small.getvalue())
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def one():
    image = decode_image(data, limits=limits)
    working_copy(image, max_side=1000)
threads = [threading.Thread(target=one) for _ in range(16)]
[t.start() for t in threads]; [t.join() for t in threads]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_mb": (peak - base) / 1024}))
"""


def test_sixteen_40_megapixel_uploads_at_once_stay_under_the_budget() -> None:
    """A guard with a generous bound (the budget plus 150 MB of allocator slack); before
    the budget this took ~16 x 380 MB."""
    proc = subprocess.run(
        [sys.executable, "-c", _STORM],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    growth = json.loads(proc.stdout.splitlines()[-1])["growth_mb"]
    assert growth < 256 + 150, growth


_ONE = """
import io, json, sys
from PIL import Image
from facegate.recognition import budget, decode_image
mode, data = sys.argv[1], open(sys.argv[2], "rb").read()
small = io.BytesIO(); Image.new(mode, (64, 64)).save(small, "PNG"); decode_image(small.getvalue())
pool = budget.shared(512, 15.0); pool.peak = 0
def status(key):
    line = next(l for l in open("/proc/self/status") if l.startswith(key))
    return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) left by imports and by reading the file
base = status("VmRSS:")
image = decode_image(data)
growth = status("VmHWM:") - base
print(json.dumps({"growth": growth, "reserved": pool.peak, "pixels": image.width * image.height}))
"""


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "I;16", "1", "RGBA"])
def test_each_mode_is_reduced_and_its_reservation_covers_what_it_uses(
    mode: str, tmp_path: Path
) -> None:
    """Decoding a 20-megapixel PNG of each mode (reduced: above decode_pixels) grows a fresh
    process by no more than it reserved from the budget beforehand."""
    grey = mode in ("L", "I;16", "1")
    source = Image.new("RGB", (4500, 4500), (90, 60, 30)).convert("L" if grey else "RGB")
    source.convert(mode).save(tmp_path / "photo.png", "PNG")
    proc = subprocess.run(
        [sys.executable, "-c", _ONE, mode, str(tmp_path / "photo.png")],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["pixels"] <= RecognitionSettings().decode_pixels
    assert 0 < seen["growth"] <= seen["reserved"], seen
