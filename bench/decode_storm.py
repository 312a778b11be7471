"""Peak memory of the service while 16 uploads of a tiny PNG claiming 6300 x 6300 pixels
(~40 megapixels, the largest facegate accepts) arrive at once.

Before the decode budget one such upload cost ~418 MB and eight 3.3 GB. Now each is
decoded reduced (to ``decode_pixels``) and every decode first reserves its peak from a
process-wide budget (``decode_budget_mb``), so the total stays under the budget; uploads
that find it spent wait, or get a 503 after ``decode_wait_s``.

The bench runs the real service: a Gate on a temporary home, the FastAPI app under uvicorn
on a local port, and 16 concurrent ``POST /v1/deployments/{id}/verify`` of the PNG (each
decoded, detected on, and answered ``no_face``). A sampler reads this process's resident
set every 2 ms; the figure is the peak above the resident set of the warmed, idle service.

    python bench/decode_storm.py [--uploads 16] [--budget-mb 512] [--side 6300] [--quick]

The last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # lawful.py: a lawful deployment

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from lawful import consent, live  # noqa: E402
from PIL import Image  # noqa: E402

from facegate.api.app import create_app  # noqa: E402
from facegate.cli.demo import demo_photo  # noqa: E402
from facegate.config import RecognitionSettings, Settings  # noqa: E402
from facegate.gate import Gate  # noqa: E402
from facegate.recognition import budget  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(0.002)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def bomb_png(side: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (200, 180, 160)).save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def storm(url: str, auth: dict[str, str], png: bytes, n: int) -> list[int]:
    async with httpx.AsyncClient(timeout=300) as client:

        async def one() -> int:
            r = await client.post(
                url,
                headers=auth,
                data={"subject_ref": "alice"},
                files={"image": ("x.png", png, "image/png")},
            )
            return r.status_code

        return list(await asyncio.gather(*(one() for _ in range(n))))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=16)
    parser.add_argument("--budget-mb", type=int, default=512)
    parser.add_argument("--side", type=int, default=6300)
    parser.add_argument("--quick", action="store_true", help="8 uploads")
    args = parser.parse_args()
    uploads = 8 if args.quick else args.uploads
    png = bomb_png(args.side)
    with tempfile.TemporaryDirectory(prefix="fg-storm-") as tmp:
        settings = Settings(
            home=Path(tmp) / "home",
            recognition=RecognitionSettings(decode_budget_mb=args.budget_mb, decode_wait_s=120),
        )
        with Gate.open(settings=settings, create=True) as gate:
            dep = live(gate, name="Storm", location="office", alternative="staff badge").id
            consent(gate, dep, "alice")
            gate.enroll(dep, "alice", demo_photo("obama.jpg"))
            key = gate.issue_api_key(label="bench").key
            gate.warm()
            port = free_port()
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(gate),
                    host="127.0.0.1",
                    port=port,
                    log_level="warning",
                    access_log=False,
                )
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port}/v1/deployments/{dep}/verify"
            auth = {"Authorization": f"Bearer {key}"}
            asyncio.run(storm(url, auth, png, 2))  # warm every code path once
            idle = rss()
            sampler = Sampler()
            sampler.start()
            started = time.perf_counter()
            statuses = asyncio.run(storm(url, auth, png, uploads))
            seconds = time.perf_counter() - started
            peak = sampler.stop()
            server.should_exit = True
            thread.join()
    growth = (peak - idle) / MIB
    figures = {
        "uploads": uploads,
        "png_bytes": len(png),
        "claimed_pixels": f"{args.side}x{args.side}",
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "budget_mb": args.budget_mb,
        "budget_peak_reserved_mb": round(budget.shared(args.budget_mb, 120).peak / MIB, 1),
        "idle_rss_mb": round(idle / MIB, 1),
        "peak_rss_mb": round(peak / MIB, 1),
        "peak_growth_mb": round(growth, 1),
        "ceiling_mb": args.budget_mb + 64,
        "under_ceiling": growth <= args.budget_mb + 64,
        "max_rss_mb_getrusage": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
        "command": "python bench/decode_storm.py" + (" --quick" if args.quick else ""),
    }
    print(
        f"{uploads} uploads of a {len(png):,}-byte PNG claiming {args.side}x{args.side}: "
        f"peak {growth:.0f} MB above the idle service ({idle / MIB:.0f} MB), budget "
        f"{args.budget_mb} MB, statuses {figures['statuses']}, {seconds:.1f} s"
    )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
