"""Server-rendered SVG bar charts for the engagement record: no JavaScript, scaled to
the width of the page by their viewBox. Each chart is an image with a title and a
description (``role="img"``); the page puts a table of the same numbers beside it, which
is the accessible version and what the chart is checked against."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from .record import EngagementRecord

WIDTH = 600
ROW = 34  # height of one bar's row
LABEL_WIDTH = 230
BAR_COLOURS = ("#1d70b8", "#505a5f")  # GOV.UK blue, dark grey: both 4.5:1 on white


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    key: str  # unique on the page, for the title and description ids
    title: str
    description: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def empty(self) -> bool:
        return not any(value for series in self.series for value in series.values)

    def svg(self) -> Markup:
        """Horizontal bars, one group per label, one bar per series, each with its
        number at its end."""
        top = 28 if len(self.series) > 1 else 6
        groups = len(self.series)
        bar = (ROW - 8) // groups
        height = top + ROW * len(self.labels) + 6
        largest = max([1, *(v for s in self.series for v in s.values)])
        span = WIDTH - LABEL_WIDTH - 50
        parts = [
            f'<svg class="app-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'width="100%" viewBox="0 0 {WIDTH} {height}" '
            f'aria-labelledby="chart-{self.key}-title chart-{self.key}-desc">',
            f'<title id="chart-{self.key}-title">{escape(self.title)}</title>',
            f'<desc id="chart-{self.key}-desc">{escape(self.description)}</desc>',
        ]
        if groups > 1:
            x = LABEL_WIDTH
            for index, series in enumerate(self.series):
                parts.append(f'<rect x="{x}" y="6" width="14" height="14" '
                             f'fill="{BAR_COLOURS[index % 2]}"/>')
                parts.append(f'<text x="{x + 20}" y="18" font-size="14" fill="#0b0c0c">'
                             f'{escape(series.name)}</text>')
                x += 150
        for row, label in enumerate(self.labels):
            y = top + row * ROW
            short = label if len(label) <= 30 else label[:29] + "…"
            parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + ROW // 2 + 4}" '
                         f'text-anchor="end" font-size="14" fill="#0b0c0c">'
                         f'{escape(short)}</text>')
            for index, series in enumerate(self.series):
                value = series.values[row]
                length = round(span * value / largest)
                bar_y = y + 4 + index * bar
                parts.append(f'<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{length}" '
                             f'height="{bar - 2}" fill="{BAR_COLOURS[index % 2]}"/>')
                parts.append(f'<text x="{LABEL_WIDTH + length + 4}" '
                             f'y="{bar_y + bar // 2 + 3}" font-size="13" fill="#0b0c0c">'
                             f'{value}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))


def record_charts(record: EngagementRecord) -> dict[str, Chart]:
    """The record page's charts, by the section they illustrate."""
    hosts = record.hosts
    attendance = record.attendance
    return {
        "meetings": Chart(
            "meetings", f"Meetings planned and held in {record.year}",
            "For the partnership and each public forum, the meetings its plan committed to "
            "and the meetings held. The table below gives the same numbers.",
            tuple(host.name for host in hosts),
            (Series("Planned", tuple(host.committed or 0 for host in hosts)),
             Series("Held", tuple(host.held for host in hosts)))),
        "sector": Chart(
            "sector", "Attendance by sector",
            "People present at public meetings, by their organisation's sector. The table "
            "beside it gives the same numbers.",
            tuple(share.label for share in attendance.by_sector),
            (Series("People present", tuple(s.count for s in attendance.by_sector)),)),
        "size": Chart(
            "size", "Attendance by organisation size",
            "People present at public meetings, by their organisation's annual income. The "
            "table beside it gives the same numbers.",
            tuple(share.label for share in attendance.by_size),
            (Series("People present", tuple(s.count for s in attendance.by_size)),)),
        "exchanges": Chart(
            "exchanges", "Secondments and shadowing completed, by direction",
            "Completed placements, from the participant's sector to the host's. The table "
            "beside it gives the same numbers.",
            tuple(share.label for share in record.exchanges.by_direction),
            (Series("Completed", tuple(s.count for s in record.exchanges.by_direction)),)),
    }
