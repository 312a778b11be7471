"""The ONNX models give the numbers of an independent numpy forward pass (within 1e-4)
on the authors' sample photos and on a sample of the shared face photos (every 80th; set
FACEGATE_PAD_EQUIV_STEP=1 for all of them; ``-s`` prints the largest differences)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from facegate.liveness import MODELS, PassiveLiveness
from facegate.liveness.convert import INPUT_NAME, LOGITS_NAME, PROBS_NAME
from facegate.liveness.evaluation import image_files
from facegate.recognition import FaceEngine, decode_image

from .reference import Reference

States = dict[str, dict[str, npt.NDArray[np.generic]]]
TOLERANCE = 1e-4
STEP = int(os.environ.get("FACEGATE_PAD_EQUIV_STEP", "80"))


@pytest.fixture(scope="module")
def crops(
    samples_dir: Path, faces_dir: Path, detector: FaceEngine, liveness: PassiveLiveness
) -> list[list[npt.NDArray[np.uint8]]]:
    """Per model, the crops of the 3 samples and of every STEP-th shared photo with a face."""
    paths = [samples_dir / n for n in ("image_T1.jpg", "image_F1.jpg", "image_F2.jpg")]
    paths += image_files(faces_dir)[::STEP]
    per_model: list[list[npt.NDArray[np.uint8]]] = [[] for _ in MODELS]
    for path in paths:
        image = decode_image(path.read_bytes())
        boxes = detector.detect(image)
        if boxes:
            for bucket, crop in zip(per_model, liveness.crops(image, boxes[0]), strict=True):
                bucket.append(crop)
    assert len(per_model[0]) >= 12  # the 3 samples and at least 9 shared photos
    return per_model


@pytest.mark.parametrize("index", range(len(MODELS)), ids=[m.name for m in MODELS])
def test_onnx_equals_numpy_reference(
    index: int, crops: list[list[npt.NDArray[np.uint8]]], states: States, liveness: PassiveLiveness
) -> None:
    batch = np.stack(crops[index])
    session = liveness._get_sessions()[index]
    logits, probs = session.run([LOGITS_NAME, PROBS_NAME], {INPUT_NAME: batch})
    ref = Reference(states[MODELS[index].name])
    ref_logits = ref.logits(batch)
    ref_probs = np.exp(ref_logits - ref_logits.max(axis=1, keepdims=True))
    ref_probs /= ref_probs.sum(axis=1, keepdims=True)
    diff_probs, diff_logits = np.abs(probs - ref_probs).max(), np.abs(logits - ref_logits).max()
    name = MODELS[index].name
    print(
        f"{name}: {len(batch)} crops, max |diff| {diff_probs:.1e} softmax, {diff_logits:.1e} logits"
    )
    assert diff_probs < TOLERANCE
    assert diff_logits < TOLERANCE
    # the sample is not degenerate: both verdicts occur and logits vary between photos
    assert len(set(np.argmax(ref_probs, axis=1).tolist())) >= 2
    assert np.ptp(ref_logits[:, 1]) > 1.0


def test_the_graph_holds_only_folded_inference_ops(liveness: PassiveLiveness) -> None:
    import onnx

    from facegate.liveness.models import load_onnx

    model = onnx.load_from_string(load_onnx(MODELS[1]))
    ops = {n.op_type for n in model.graph.node}
    assert "BatchNormalization" not in ops
    assert ops <= {
        "Cast", "Transpose", "Conv", "PRelu", "Relu", "Sigmoid", "GlobalAveragePool",
        "Mul", "Add", "Flatten", "Gemm", "Softmax", "Identity",
    }  # fmt: skip
    assert {"Sigmoid", "GlobalAveragePool"} <= ops  # the SE gates are there
    (inp,) = model.graph.input
    assert inp.name == INPUT_NAME
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert dims == ["N", 80, 80, 3]
    assert [o.name for o in model.graph.output] == [LOGITS_NAME, PROBS_NAME]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_sha256"] == MODELS[1].sha256
