"""Makes ``cv2_resize.npz``: OpenCV's ``cv2.resize(img, (80, 80))`` of synthetic images.

Not part of the test run (facegate does not depend on OpenCV); run it in an environment
with ``opencv-python-headless`` to refresh the vectors:
    python tests/unit/liveness/data/make_cv2_vectors.py
The inputs are made by ``synthetic`` (pure integer arithmetic, so the test rebuilds them
exactly); only the outputs are stored. Made with opencv-python-headless 5.1.0 on x86-64;
4.5.5 (the generation the authors used, 4.2) gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: (height, width): shrink, enlarge, mixed, the exact-2x case OpenCV treats apart, no-op
SIZES = (
    (13, 654),
    (40, 100),
    (62, 76),
    (79, 300),
    (160, 160),
    (161, 161),
    (203, 117),
    (480, 640),
    (2, 3),
    (80, 80),
)


def synthetic(height: int, width: int) -> np.ndarray:
    """A deterministic image with edges, gradients and noise-like texture."""
    y, x, c = np.meshgrid(
        np.arange(height, dtype=np.int64),
        np.arange(width, dtype=np.int64),
        np.arange(3, dtype=np.int64),
        indexing="ij",
    )
    value = (x * 7 + y * 13 + c * 85 + ((x * 31 + y * 17 + c * 5) ** 2 % 97) * 3) % 256
    return value.astype(np.uint8)


def main() -> None:
    import cv2

    out = {f"{h}x{w}": cv2.resize(synthetic(h, w), (80, 80)) for h, w in SIZES}
    np.savez_compressed(Path(__file__).with_name("cv2_resize.npz"), **out)
    print(f"opencv {cv2.__version__}: wrote {len(out)} vectors")


if __name__ == "__main__":
    main()
