"""Contract coverage: which operations, status codes, properties and rules a run exercised, and which it never touched.

``coverage`` collects and merges (:class:`CoverageReport`), ``html`` renders the self-contained page.
"""

from __future__ import annotations

from pytest_runcommand.report.coverage import CoverageReport
from pytest_runcommand.report.html import render_html

__all__ = ["CoverageReport", "render_html"]
