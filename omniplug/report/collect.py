"""Everything the report shows, gathered from an output folder into plain Python values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniplug.config import AttributionConfig
from omniplug.report.data import OutputFolder
from omniplug.report.data_assets import material_section
from omniplug.report.data_credit import attribution_models, attribution_section, credit_breakdown, kol_section
from omniplug.report.data_people import aipl_section, stitching_section
from omniplug.report.data_quality import overview_section, quality_section
from omniplug.report.thumbs import MediaSource

__all__ = ["ReportData", "collect_report_data"]


@dataclass
class ReportData:
    """The content of one report, section by section (dicts and lists of plain values).

    Attributes:
        folder: the output folder's name (shown in the title).
        tables: the Parquet files found.
        models: attribution models, in display order (the first drives
            single-model views: KOL trend, creative ordering).
        overview: see :func:`omniplug.report.data_quality.overview_section`.
        attribution: see :func:`omniplug.report.data_credit.attribution_section`.
        kols: see :func:`omniplug.report.data_credit.kol_section`.
        aipl: see :func:`omniplug.report.data_people.aipl_section`.
        materials: see :func:`omniplug.report.data_assets.material_section`.
        stitching: see :func:`omniplug.report.data_people.stitching_section`.
        quality: see :func:`omniplug.report.data_quality.quality_section`.
    """

    folder: str
    tables: list[str]
    models: list[str]
    overview: dict[str, Any] = field(default_factory=dict)
    attribution: dict[str, Any] = field(default_factory=dict)
    kols: dict[str, Any] = field(default_factory=dict)
    aipl: dict[str, Any] = field(default_factory=dict)
    materials: dict[str, Any] = field(default_factory=dict)
    stitching: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)


def collect_report_data(out_dir: str | Path, *, settings: AttributionConfig | None = None,
                        media: MediaSource | None = None) -> ReportData:
    """Query ``out_dir`` for every section of the report.

    Args:
        out_dir: an ``omniplug run`` output folder.
        settings: the pipeline's ``[attribution]`` settings, so the finer
            breakdowns (KOL, creative, trend) credit revenue exactly as the
            run did; ``None`` uses the defaults with the models found in
            ``attribution.parquet``.
        media: bytes of a material's media file by ``(platform, material_id)``, for thumbnails.

    Raises:
        InvalidInputError: ``out_dir`` is not an output folder.
    """
    folder = OutputFolder(out_dir)
    try:
        models = attribution_models(folder, settings)
        breakdown_error = credit_breakdown(folder, models, settings)
        data = ReportData(folder=folder.path.resolve().name, tables=sorted(folder.tables), models=models)
        data.overview = overview_section(folder)
        data.attribution = attribution_section(folder, models, breakdown_error)
        data.kols = kol_section(folder, models, breakdown_error)
        data.aipl = aipl_section(folder)
        data.materials = material_section(folder, models, breakdown_error, media)
        data.stitching = stitching_section(folder)
        data.quality = quality_section(folder)
        data.tables = sorted(t for t in folder.tables if not t.startswith("credit"))
        return data
    finally:
        folder.close()
