"""Charts and maps as SVG data URIs, drawn with matplotlib without pyplot (no global state).

Charts are drawn from published figures only: a hidden count has no value here, so no bar
height, position or colour can give it away. Text is drawn as paths, so a chart looks the
same in any browser and in the PDF, whatever fonts the reader has. Colours are ColorBrewer
sequential blues, ordered by lightness, so they read in greyscale and with colour-vision
deficiency.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

BLUES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
FEWER = "#f4f4f4"  # the class holding 0 and "<5" together, so neither is told apart
HIDDEN = "#d9d9d9"  # hidden ("*") counts: 5 or more, value withheld
CONTEXT = "#fafafa"
INK = "#1d2733"
MUTED = "#5b6673"
VENUE = "#d95f02"  # a dark orange, distinct from every blue even in greyscale
OUTLYING_SHARE = 0.1  # parts smaller than this share of their area's largest part
NICE_STEPS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "cardiffmodel",  # stable ids, so the same report gives the same bytes
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
}


@dataclass(frozen=True)
class Shown:
    """A published figure as a chart sees it: its value, or None when hidden, and its text."""

    value: int | None
    text: str


@dataclass(frozen=True)
class MapArea:
    geometry: object  # shapely (multi)polygon, WGS84
    label: str
    figure: Shown


@dataclass(frozen=True)
class MapPoint:
    """A venue on the map; ``label`` is its number in the venue table."""

    lon: float
    lat: float
    label: str


def count_classes(values: Sequence[int | None], threshold: int = 5) -> tuple[int, ...]:
    """Class breaks for shown counts: ``threshold`` then round numbers, at most four classes
    above the lowest, so every class starts at or above ``threshold``."""
    top = max((v for v in values if v is not None), default=0)
    steps = [threshold, *(s for s in NICE_STEPS if threshold < s <= top)]
    keep = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), len(BLUES) - 1)).round())
    return tuple(steps[int(i)] for i in keep)


def choropleth(
    areas: Sequence[MapArea],
    context: Sequence[object],
    points: Sequence[MapPoint],
    threshold: int = 5,
    title: str = "Incidents by beat",
) -> str:
    """A map of the group's areas shaded by published count, with numbered venue points.

    A count below ``threshold`` (shown or "<5") and a zero share the lightest class; a
    hidden count ("*") gets its own grey class. ``context`` polygons (neighbouring areas)
    are drawn faintly for orientation.
    """
    breaks = count_classes([a.figure.value for a in areas], threshold)
    colours = BLUES[1 : 1 + len(breaks)]
    legend = [(FEWER, f"Fewer than {threshold}")]
    legend += [(colours[i], _class_label(breaks, i)) for i in range(len(breaks))]
    with rc_context(RC):
        fig = Figure(figsize=(6.6, 4.6))
        ax = fig.add_axes((0.0, 0.0, 0.72, 0.92))
        for geometry in context:
            _draw(ax, geometry, facecolor=CONTEXT, edgecolor="#c8ced4", linewidth=0.4)
        has_hidden = False
        for area in areas:
            if area.figure.value is None and area.figure.text != f"<{threshold}":
                colour, has_hidden = HIDDEN, True
            elif area.figure.value is None or area.figure.value < threshold:
                colour = FEWER
            else:
                colour = colours[_class_index(breaks, area.figure.value)]
            _draw(ax, area.geometry, facecolor=colour, edgecolor=INK, linewidth=0.7)
        for area in areas:
            at = shapely.point_on_surface(area.geometry)
            ax.annotate(
                area.label,
                (at.x, at.y),
                ha="center",
                va="center",
                fontsize=6.5,
                color=INK,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
            )
        for point in points:
            ax.plot(point.lon, point.lat, "o", ms=9, mfc=VENUE, mec="white", mew=0.8)
            ax.annotate(
                point.label,
                (point.lon, point.lat),
                ha="center",
                va="center",
                fontsize=6,
                color="white",
                fontweight="bold",
            )
        _frame(ax, [a.geometry for a in areas])
        if has_hidden:
            legend.append((HIDDEN, f"Hidden ({threshold} or more)"))
        handles = [Patch(facecolor=c, edgecolor=INK, linewidth=0.5, label=t) for c, t in legend]
        if points:
            handles.append(_venue_handle(ax))
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.73, 0.9),
            frameon=False,
            title=title,
            title_fontsize=8,
            alignment="left",
        )
        return _uri(fig)


def paired_bars(
    labels: Sequence[str],
    current: Sequence[Shown],
    earlier: Sequence[Shown],
    names: tuple[str, str],
) -> str:
    """Bars of each month this year beside the same month a year earlier; a hidden count
    has no bar, only its marker, so nothing about it can be read off the chart. A month
    not held has no bar either, and its marker ("not held") stands upright: a gap, never
    a bar of zero."""
    x = np.arange(len(labels))
    width = 0.4
    with rc_context(RC):
        fig = Figure(figsize=(6.6, 2.5))
        ax = fig.add_axes((0.08, 0.16, 0.9, 0.72))
        top = max([s.value for s in (*current, *earlier) if s.value is not None] or [1])
        for offset, series, colour, name in (
            (-width / 2, earlier, BLUES[2], names[1]),
            (width / 2, current, BLUES[4], names[0]),
        ):
            heights = [s.value if s.value is not None else 0 for s in series]
            ax.bar(x + offset, heights, width * 0.95, color=colour, label=name)
            for xi, s in zip(x + offset, series, strict=True):
                if s.value is None:
                    ax.annotate(
                        s.text,
                        (xi, 0),
                        xytext=(0, 2),
                        textcoords="offset points",
                        ha="center",
                        va="bottom",
                        fontsize=6,
                        color=INK if len(s.text) <= 2 else MUTED,
                        rotation=0 if len(s.text) <= 2 else 90,
                    )
        ax.set_xticks(x, labels)
        ax.set_ylim(0, top * 1.12)
        ax.set_ylabel("Incidents")
        ax.spines[["top", "right"]].set_visible(False)
        ax.yaxis.grid(True, color="#e3e7eb", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(0, 1.2), ncols=2, frameon=False)
        return _uri(fig)


def _class_index(breaks: Sequence[int], value: int) -> int:
    return max(i for i, b in enumerate(breaks) if value >= b)


def _class_label(breaks: Sequence[int], i: int) -> str:
    if i + 1 < len(breaks):
        return f"{breaks[i]:,} to {breaks[i + 1] - 1:,}"
    return f"{breaks[i]:,} or more"


def _draw(ax, geometry, **style) -> None:
    """A (multi)polygon with its holes, as one matplotlib path."""
    polygons = getattr(geometry, "geoms", [geometry])
    vertices, codes = [], []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    if vertices:
        path = MplPath(np.concatenate(vertices), np.concatenate(codes))
        ax.add_patch(PathPatch(path, **style))


def _frame(ax, geometries: Sequence[object]) -> None:
    """Fit the view to the group's areas, with lon/lat scaled to look right at this
    latitude (a degree of longitude is shorter than one of latitude away from the equator).

    Small outlying parts (an island belonging to a coastal beat) are left out of the
    frame, or the beats would shrink to a corner of the map.
    """
    parts = []
    for geometry in geometries:
        pieces = list(getattr(geometry, "geoms", [geometry]))
        largest = max(piece.area for piece in pieces)
        parts += [piece for piece in pieces if piece.area >= OUTLYING_SHARE * largest]
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(parts, dtype=object))
    pad_x, pad_y = (xmax - xmin) * 0.04, (ymax - ymin) * 0.04
    ax.set_xlim(xmin - pad_x, xmax + pad_x)
    ax.set_ylim(ymin - pad_y, ymax + pad_y)
    ax.set_aspect(1 / math.cos(math.radians((ymin + ymax) / 2)))
    ax.set_axis_off()


def _venue_handle(ax):
    return ax.plot([], [], "o", ms=7, mfc=VENUE, mec="white", label="Venue (number in table)")[0]


def _uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None, "Creator": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"
