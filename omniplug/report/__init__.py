"""``report.html``: the output folder of a run as one self-contained page for marketers.

:func:`build_report` reads an output folder (the Parquet files ``omniplug
run`` writes) with DuckDB and writes a single HTML file with inline SVG
charts: ROI and credited revenue by platform and channel under each
attribution model, the KOL table, the AIPL funnel per platform and across
platforms, the cross-platform creative reuse matrix with thumbnails,
identity-stitching statistics and data quality. The page needs no network
(no CDN, no web fonts; a Content-Security-Policy blocks every request) and
every chart carries its numbers in a ``data-rows`` attribute.

Example::

    from omniplug.report import build_report

    path = build_report("out")            # writes out/report.html
    build_report("out", "/tmp/r.html", settings=config.attribution)

See ``docs/report.md`` for what each section shows and how each number is computed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from omniplug.config import AttributionConfig
from omniplug.report.collect import ReportData, collect_report_data
from omniplug.report.render import render_report
from omniplug.report.thumbs import MediaSource

__all__ = ["REPORT_FILENAME", "MediaSource", "ReportData", "build_report", "collect_report_data", "render_report"]

#: File name of the report inside an output folder.
REPORT_FILENAME = "report.html"


def build_report(out_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None, *,
                 settings: AttributionConfig | None = None, media: MediaSource | None = None) -> Path:
    """Write the HTML report of an output folder; return its path.

    Args:
        out_dir: the output folder of ``omniplug run`` (or ``omniplug demo``).
        path: where to write the page (default ``<out_dir>/report.html``).
            Written to a temporary sibling and renamed, so a reader never
            sees half a page.
        settings: the pipeline's ``[attribution]`` section (``config.attribution``),
            so the KOL, creative and trend breakdowns credit revenue with
            the run's lookback, half-life and weights. Without it the
            defaults are used with the models found in ``attribution.parquet``,
            and the page says so if that changes any figure.
        media: ``(platform, material_id) -> bytes or None``: the encoded
            image or video of a material, for thumbnails when its ``uri`` is
            not a readable local file (e.g. a media cache). Never required.

    Raises:
        InvalidInputError: ``out_dir`` is not a folder with omniplug outputs.
        OSError: the page cannot be written.
    """
    data = collect_report_data(Path(out_dir), settings=settings, media=media)
    target = Path(path) if path is not None else Path(out_dir) / REPORT_FILENAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(render_report(data), encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
