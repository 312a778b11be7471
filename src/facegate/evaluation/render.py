"""The protection report as text for people (``facegate bench``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facegate.evaluation.report import Report

__all__ = ["render"]


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g} ms"


def render(report: Report) -> str:
    """The figures as text for people."""
    u = report.unprotected
    ref = (
        f"FMR {u.reference_fmr:g} (distance <= {u.reference_threshold:.3f})"
        if u.reference_fmr is not None
        else f"dlib's customary distance {u.reference_threshold} (too few impostors for FMR)"
    )
    lines = [
        f"data set {report.dataset}: {report.photos} photos ({report.no_face} without a face), "
        f"{report.genuine} genuine and {report.impostor} impostor comparisons"
        + (f" ({report.dropped_pairs} pairs dropped)" if report.dropped_pairs else "")
        + f", {report.pool} impostor pairs for false-accept rates",
        f"unprotected (euclidean): 10-fold accuracy {_pct(u.accuracy)}, EER {_pct(u.eer)}, "
        f"TAR@FAR1e-3 {_pct(u.tar_at_far_1e3)}, TAR@FAR1e-4 {_pct(u.tar_at_far_1e4)}",
        f"reference system for attacks: {ref}; accepts {_pct(u.genuine_acceptance)} of genuine "
        f"pairs and the public mean face for {_pct(u.mean_face_acceptance)} of people",
        "",
        f"{'scheme':<24} {'acc':>7} {'delta':>7} {'EER':>6} {'TAR@1e-3':>8} {'TAR@1e-4':>8} "
        f"{'Dsys':>6} {'renew':>6} {'attack':>7} {'bytes':>6} {'Mcmp/s':>7}",
    ]
    for s in report.schemes:
        speed = "n/a" if s.comparisons_per_s is None else f"{s.comparisons_per_s / 1e6:.1f}"
        lines.append(
            f"{s.name:<24} {_pct(s.accuracy):>7} "
            f"{100 * (s.accuracy - s.unprotected_accuracy):>+7.2f} {_pct(s.eer):>6} "
            f"{_pct(s.tar_at_far_1e3):>8} {_pct(s.tar_at_far_1e4):>8} "
            f"{'n/a' if s.dsys is None else format(s.dsys, '.3f'):>6} "
            f"{_pct(s.renewed_match_rate, 1):>6} {_pct(s.stolen_key_attack_acceptance, 1):>7} "
            f"{s.template_bytes:>6} {speed:>7}"
        )
    lines.append("")
    for s in report.schemes:
        same_photo = "n/a" if s.dsys_same_photo is None else f"{s.dsys_same_photo:.3f}"
        lines.append(
            f"{s.name}: at its threshold {s.threshold:.2f}: accuracy "
            f"{_pct(s.accuracy_at_threshold)}, FMR {_pct(s.fmr_at_threshold, 3)}, FNMR "
            f"{_pct(s.fnmr_at_threshold)}; renewed-template match rate "
            f"{_pct(s.renewed_match_rate, 3)} (Dsys same photo {same_photo}); attack accepted "
            f"{_pct(s.stolen_key_attack_acceptance, 1)} vs genuine "
            f"{_pct(u.genuine_acceptance, 1)}, best candidates {s.attack_methods}"
        )
        by = ", ".join(f"{a} {_pct(v, 0)}" for a, v in s.attack_acceptance.items())
        lines.append(
            f"{s.name}: attack accepted by attacker (2-of-3 custody): {by}; ideal-oracle "
            f"bound at this accuracy {_pct(s.oracle_bound, 0)}; latency 1:1 "
            f"{_ms(s.latency_1_to_1_ms)}, 1:N {_ms(s.latency_1_to_n_ms)} over "
            f"{s.gallery_rows or 0:,} templates (one core)"
        )
    if report.bound:
        lines.append(
            "bound on any scheme, an ideal template revealing only accept/reject within a "
            "radius: accuracy change / attack accepted: "
            + ", ".join(
                f"{b.radius:.2f}: {100 * (b.accuracy - b.unprotected_accuracy):+.2f} / "
                f"{_pct(b.stolen_key_attack_acceptance, 0)}"
                for b in report.bound
            )
        )
    lines.append(
        f"default scheme: {report.default}; by this data set's figures the rule picks "
        f"{report.recommended}"
    )
    return "\n".join(lines)
