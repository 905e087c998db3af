"""Read-only summaries of what the database holds: ``alc-data stats`` and ``alc-data report``."""

from alc_data.report.html import build_report, render_html
from alc_data.report.stats import data_stats, render_stats

__all__ = ["build_report", "data_stats", "render_html", "render_stats"]
