"""The consolidated weekly report: build a model from store + reconcile, render Markdown, HTML and JSON.

Public API: `build_report`, `write_report`, the renderers, and `publish_report` / `describe_publish`.
"""

from connector.report.build import build_report
from connector.report.html import render_html
from connector.report.json_out import render_json, report_dict
from connector.report.markdown import render_markdown
from connector.report.model import Report
from connector.report.output import write_report
from connector.report.publish import describe_publish, publish_marker, publish_report

__all__ = ["Report", "build_report", "describe_publish", "publish_marker", "publish_report", "render_html",
           "render_json", "render_markdown", "report_dict", "write_report"]
