"""One self-contained HTML page: sections of captioned plotly figures and tables.

plotly.js is embedded once in the page head, so the file opens offline and requests nothing;
each figure is a ``<div>`` drawn by ``Plotly.newPlot``. A section belongs to one run folder;
a block is a figure, a table or a line of text, each with a caption saying what to look for.
"""

from __future__ import annotations

import html
import numbers
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Figure", "Note", "Section", "Table", "render_page"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;
color:#1d2330;background:#fafbfc}
header{padding:18px 32px;background:#1d2330;color:#fff}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c6cbd6;font-size:13px}
nav{padding:8px 32px;background:#eef1f5;font-size:14px}nav a{margin-right:18px;color:#1d4ed8}
section{margin:22px 32px;padding:14px 20px;background:#fff;border:1px solid #e2e6ec;
border-radius:6px}
section h2{margin:0 0 2px;font-size:19px}.source{color:#6b7280;font-size:12px;margin:0 0 10px}
figure{margin:16px 0}figcaption{font-size:13px;color:#374151;margin-top:4px}
figcaption b{color:#111827}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e5e7eb;padding:3px 10px;text-align:right}
th{background:#f3f4f6}td.t,th:first-child{text-align:left}
.note{font-size:13px;color:#92400e;background:#fffbeb;padding:6px 10px;border-radius:4px}
.scroll{max-height:420px;overflow:auto}
"""


@dataclass
class Figure:
    """A plotly figure and the one line that says what to look for in it."""

    figure: object  # plotly.graph_objects.Figure
    caption: str


@dataclass
class Table:
    """A table (rendered as HTML, numbers to 4 significant digits) with its caption."""

    frame: pd.DataFrame
    caption: str
    max_rows: int = 200


@dataclass
class Note:
    """A line of text: something the reader must know (a missing file, a subsample)."""

    text: str


@dataclass
class Section:
    """What the report shows of one run folder."""

    title: str
    kind: str
    source: Path
    blocks: list[Figure | Table | Note] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.kind}-{self.title}".lower()).strip("-")


def _figure_html(block: Figure, div_id: str) -> str:
    import plotly.io as pio

    div = pio.to_html(
        block.figure,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    caption = html.escape(block.caption)
    return f'<figure class="plot">{div}<figcaption><b>Look for:</b> {caption}</figcaption></figure>'


def _cell(value: object) -> str:
    """One ``<td>``: numbers to 4 significant digits, right-aligned; text left-aligned."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return f'<td class="t">{html.escape(str(value))}</td>'
    if isinstance(value, numbers.Integral):
        return f"<td>{value}</td>"
    return "<td></td>" if value != value else f"<td>{float(value):.4g}</td>"


def _table_html(block: Table) -> str:
    frame = block.frame.head(block.max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in frame.itertuples(index=False)
    )
    more = len(block.frame) - len(frame)
    tail = f" (first {len(frame)} of {len(block.frame)} rows)" if more > 0 else ""
    return (
        f'<figure><div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}'
        f"</tbody></table></div><figcaption>{html.escape(block.caption)}{tail}</figcaption>"
        "</figure>"
    )


def _section_html(section: Section, number: int) -> str:
    parts = [
        f'<section id="{section.anchor}" data-kind="{section.kind}">',
        f"<h2>{html.escape(section.title)}</h2>",
        f'<p class="source">{section.kind} run: {html.escape(str(section.source))}</p>',
    ]
    for k, block in enumerate(section.blocks):
        if isinstance(block, Figure):
            parts.append(_figure_html(block, f"fig-{number}-{k}"))
        elif isinstance(block, Table):
            parts.append(_table_html(block))
        else:
            parts.append(f'<p class="note">{html.escape(block.text)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page(sections: list[Section], title: str = "matlattice report") -> str:
    """The whole page as one string: plotly.js inline, no external reference."""
    from plotly.offline import get_plotlyjs

    from matlattice import __version__

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(
        f'<a href="#{s.anchor}">{html.escape(s.kind)}: {html.escape(s.title)}</a>' for s in sections
    )
    body = "\n".join(_section_html(s, k) for k, s in enumerate(sections))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"<header><h1>{html.escape(title)}</h1><p>matlattice {__version__}, written {stamp}; "
        f"{len(sections)} run folder(s). Every figure is interactive: hover for values, drag "
        "to zoom, double-click to reset.</p></header>"
        f"<nav>{nav}</nav>\n{body}\n</body></html>\n"
    )
