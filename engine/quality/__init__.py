"""Quality of a synthetic table against its seed: fidelity, privacy and conditioning, and
the self-contained HTML report that shows them (``build_report``)."""

from engine.quality.conditioning import conditioning_report
from engine.quality.metrics import QualityReport, column_shape, pair_trend, quality_report
from engine.quality.privacy import dcr_share, exact_copy_rate
from engine.quality.report import build_report

__all__ = ["QualityReport", "column_shape", "pair_trend", "quality_report", "dcr_share",
           "exact_copy_rate", "conditioning_report", "build_report"]
