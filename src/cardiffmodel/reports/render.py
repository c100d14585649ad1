"""HTML and PDF from one Jinja2 template: the HTML opens offline (styles and charts inside
it, nothing fetched), and WeasyPrint lays the same HTML out on A4 pages."""

from __future__ import annotations

from pathlib import Path

import jinja2

FORMATS = ("html", "pdf")

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("cardiffmodel.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def render_html(report) -> str:
    """The report (a ``builder.GroupReport``) as one self-contained HTML page."""
    return _env.get_template("group_report.html.j2").render(report=report)


def write_pdf(html: str, path: Path) -> None:
    """Lay the HTML out as an A4 PDF; the template's @page rules give page numbers and a
    running header. No base URL: the page refers to nothing outside itself."""
    from weasyprint import HTML  # imported here: it takes most of a second to load

    HTML(string=html).write_pdf(path)
