"""The HTML report's historical import path; the report lives in :mod:`mapdoctor.reports.html`."""

from __future__ import annotations

from mapdoctor.reports.html import HtmlReporter, render_html, write_html

__all__ = ["HtmlReporter", "render_html", "write_html"]
