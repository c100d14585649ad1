"""Local hotspots on an area layer or a grid: Getis-Ord Gi* and Local Moran, via PySAL esda.

An area with many incidents is not a hotspot on its own: Gi* asks whether an area and its
neighbours together hold more than chance would put there, and Local Moran whether an area
resembles its neighbours. Both are tested by conditional permutation (esda), and the
areas are tested together, so the share of false hotspots is held by the Benjamini-
Hochberg false-discovery-rate procedure. Without that, one area in twenty would be called
a hotspot at the 5% level on pure noise.

An area's label and its test point the same way: the label comes from the statistic
(hot where Gi*'s z is positive; Local Moran's quadrant), and its p-value is the
permutation tail in that direction. The conditional permutation holds the area's own
count, so for the busiest area it asks only whether its neighbours are busy too: its z
can be positive while its neighbours sit in the lower tail, and a label read from one
and a p-value from the other would disagree. Whether an area alone holds more than
expected is the question of :mod:`cardiffmodel.analysis.excess`.

Neighbours come from libpysal's immutable ``Graph``, so the caller's weights are never
changed by a statistic (esda re-weights the ``W`` objects it is given in place).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import geopandas as gpd
import ibis
import numpy as np
from esda import G_Local, Moran_Local
from libpysal.graph import Graph
from statsmodels.stats.multitest import multipletests

from cardiffmodel.analysis.grid import GridLayer, grid_counts
from cardiffmodel.analysis.selection import Selection, filter_incidents

STATISTICS = ("gi_star", "local_moran")
CLASSES = ("hot", "cold", "high_low", "low_high", "not_significant", "no_neighbours")
# esda's Local Moran quadrants: 1 high among high, 2 low among high, 3 low among low,
# 4 high among low.
MORAN_QUADRANTS = {1: "hot", 2: "low_high", 3: "cold", 4: "high_low"}


@dataclass(frozen=True)
class HotspotResult:
    """One local statistic for every area (or cell), with its inference.

    Attributes
    ----------
    statistic : str
        ``"gi_star"`` (Getis-Ord Gi*, binary weights including the area itself) or
        ``"local_moran"`` (Local Moran's I, row-standardised weights).
    codes : tuple of str
        Area or cell codes, in the order of the weights graph.
    counts : numpy.ndarray
        The counts tested (a float copy).
    values : numpy.ndarray
        The statistic: for Gi*, the neighbourhood's share of all incidents; local I.
    z : numpy.ndarray
        Analytical standard score under randomisation: for Gi*, the z of Ord and Getis
        (1995), which is what is usually reported as "Gi*"; for Local Moran, from the
        conditional-randomisation moments of Sokal et al. (1998). Descriptive only:
        significance comes from the permutations.
    direction : tuple of str
        Per area, the class it takes if significant, read from the statistic: for Gi*,
        ``hot`` where z is positive, else ``cold``; for Local Moran, the quadrant (``hot``
        high among high, ``cold``, ``high_low``, ``low_high``). ``""`` where not tested.
    p_sim : numpy.ndarray
        One-sided pseudo p-value of esda's conditional permutations in the tail of
        ``direction``: the upper tail for ``hot`` (Gi*) and for ``hot`` and ``cold``
        (Local Moran: like neighbours), the lower tail otherwise. ``(1 + permutations
        at least as extreme, ties included) / (permutations + 1)``: at least ``1 /
        (permutations + 1)``, and above 0.5 when the statistic's sign and the
        permutations disagree. (esda's own ``p_sim`` takes the nearer tail whatever the
        label, and leaves out ties on the lower tail, which makes it too small for
        counts.)
    p_adjusted : numpy.ndarray
        The two-sided ``min(1, 2 * p_sim)``, adjusted by Benjamini-Hochberg over all the
        areas tested. Doubling the tail the label names is the two-sided test, since the
        label was read from the data.
    classification : tuple of str
        Per area, one of ``CLASSES``: its ``direction`` where ``p_adjusted <= alpha``,
        else ``not_significant``; ``no_neighbours`` for islands, which are not tested.
        ``values``, ``z``, ``p_sim`` and ``p_adjusted`` are NaN where an area is not
        tested, and everywhere when all counts are equal (nothing stands out).

        The smallest two-sided p is ``2 / (permutations + 1)``, and Benjamini-Hochberg
        flags a lone area of ``n`` only below ``alpha / n``: so a lone hot spot among
        ``n`` areas needs more than ``2 n / alpha`` permutations (1,160 for 29 wards at
        5%). A cluster of ``k`` hot areas needs ``k`` times fewer.
    alpha : float
        The false discovery rate controlled.
    permutations, seed : int
        Conditional permutations drawn and the seed of their generator.
    """

    statistic: str
    codes: tuple[str, ...]
    counts: np.ndarray
    values: np.ndarray
    z: np.ndarray
    direction: tuple[str, ...]
    p_sim: np.ndarray
    p_adjusted: np.ndarray
    classification: tuple[str, ...]
    alpha: float
    permutations: int
    seed: int

    def codes_of(self, kind: str) -> tuple[str, ...]:
        """Codes of the areas classified as ``kind`` (one of ``CLASSES``)."""
        return tuple(c for c, k in zip(self.codes, self.classification, strict=True) if k == kind)


@dataclass(frozen=True)
class HotspotPersistence:
    """How often each area was a significant hot spot over a run of periods.

    Attributes
    ----------
    codes : tuple of str
        Area or cell codes, in the order of the weights graph.
    periods : tuple of Selection
        The periods tested, as given.
    hot : numpy.ndarray of bool
        ``hot[k, i]``: area ``i`` was classified ``hot`` in period ``k``.
    months_hot : numpy.ndarray of int
        Periods each area was hot (``hot.sum(axis=0)``).
    statistic : str
        The statistic used (one of ``STATISTICS``).
    alpha : float
        The false discovery rate controlled within each period.
    permutations, seed : int
        Permutations per period; period ``k`` used seed ``seed + k``.
    """

    codes: tuple[str, ...]
    periods: tuple[Selection, ...]
    hot: np.ndarray
    months_hot: np.ndarray
    statistic: str
    alpha: float
    permutations: int
    seed: int


def contiguity(geometries: np.ndarray, codes: Sequence[str], rule: str = "queen") -> Graph:
    """Neighbours by shared boundary: ``queen`` (any shared point) or ``rook`` (a shared edge).

    Geometries may be in any one CRS (contiguity does not depend on it): an area layer's
    WGS84 polygons, or a grid's ``boxes()``. Exact contiguity needs polygons that share
    vertices exactly, as grid cells and most boundary files do; generalised boundaries
    (such as ONS LSOAs) often do not, and would leave every area an island, so when exact
    queen contiguity finds islands the layer falls back to ``fuzzy`` contiguity: areas
    whose outlines, widened by 0.5% of the smallest bounding-box side, intersect.
    """
    if rule not in ("queen", "rook", "fuzzy"):
        raise ValueError(f"contiguity rule {rule!r}: expected 'queen', 'rook' or 'fuzzy'")
    series = gpd.GeoSeries(np.asarray(geometries, dtype=object), index=list(codes))
    if rule != "fuzzy":
        exact = Graph.build_contiguity(series, rook=rule == "rook")
        if rule == "rook" or len(exact.isolates) == 0 or len(series) < 2:
            return exact
    return Graph.build_fuzzy_contiguity(series, tolerance=0.005)


def counts_by_area(t: ibis.Table, sel: Selection, codes: Sequence[str]) -> np.ndarray:
    """Incidents of the selection in each of ``codes`` of ``sel.layer`` (zeros included)."""
    rows_in = filter_incidents(t, sel)
    query = rows_in.group_by(code=rows_in[sel.layer]).aggregate(count=rows_in.count())
    found = {row["code"]: row["count"] for row in query.to_pyarrow().to_pylist()}
    return np.array([found.get(code, 0) for code in codes], dtype=np.int64)


def gi_star(
    counts: np.ndarray,
    weights: Graph,
    permutations: int = 9999,
    seed: int = 0,
    alpha: float = 0.05,
) -> HotspotResult:
    """Getis-Ord Gi* of ``counts`` (aligned with ``weights.unique_ids``), FDR-controlled.

    9,999 permutations by default: with esda's 999, no lone beat among a few dozen can
    pass the false-discovery-rate control (see :class:`HotspotResult`).
    """
    y = _checked(counts, weights, permutations, seed, alpha)
    if np.ptp(y) == 0:
        return _untestable("gi_star", y, weights, permutations, seed, alpha)
    part, graph, kept = _connected(y, weights)
    with _quiet_esda():
        g = G_Local(part, graph, transform="B", star=True, **_esda_options(permutations, seed))
    upper = g.Zs > 0
    kinds = np.where(upper, "hot", "cold")
    found = _expand(kept, (g.Gs, g.Zs, _tail_p(g.Gs, g.rGs, upper), kinds))
    return _result("gi_star", y, weights, found, permutations, seed, alpha)


def local_moran(
    counts: np.ndarray,
    weights: Graph,
    permutations: int = 9999,
    seed: int = 0,
    alpha: float = 0.05,
) -> HotspotResult:
    """Local Moran's I of ``counts`` (aligned with ``weights.unique_ids``), FDR-controlled."""
    y = _checked(counts, weights, permutations, seed, alpha)
    if np.ptp(y) == 0:
        return _untestable("local_moran", y, weights, permutations, seed, alpha)
    part, graph, kept = _connected(y, weights)
    with _quiet_esda():
        m = Moran_Local(part, graph, transformation="r", **_esda_options(permutations, seed))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (m.Is - m.EIc) / np.sqrt(m.VIc)
    kinds = np.array([MORAN_QUADRANTS[q] for q in m.q])
    # Like neighbours (hot, cold) make local I large; outliers make it small.
    upper = np.isin(kinds, ("hot", "cold"))
    found = _expand(kept, (m.Is, z, _tail_p(m.Is, m.rlisas, upper), kinds))
    return _result("local_moran", y, weights, found, permutations, seed, alpha)


def hotspot_persistence(
    t: ibis.Table,
    sel_months: Sequence[Selection],
    weights: Graph,
    grid: GridLayer | None = None,
    statistic: str = "gi_star",
    permutations: int = 9999,
    seed: int = 0,
    alpha: float = 0.05,
) -> HotspotPersistence:
    """In how many of the periods each area (or ``grid`` cell) was a significant hot spot.

    Areas are counted on each selection's layer, in the order of ``weights``; given a
    ``grid``, incidents are counted on its cells instead (build ``weights`` from it).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"hotspot statistic {statistic!r}: expected one of {STATISTICS}")
    test = gi_star if statistic == "gi_star" else local_moran
    codes = tuple(weights.unique_ids)
    hot = []
    for k, sel in enumerate(sel_months):
        counts = counts_by_area(t, sel, codes) if grid is None else grid_counts(t, sel, grid)
        result = test(counts, weights, permutations=permutations, seed=seed + k, alpha=alpha)
        hot.append(np.array(result.classification) == "hot")
    hot_array = np.array(hot, dtype=bool).reshape(len(hot), len(codes))
    return HotspotPersistence(
        codes=codes,
        periods=tuple(sel_months),
        hot=hot_array,
        months_hot=hot_array.sum(axis=0),
        statistic=statistic,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
    )


def _connected(y: np.ndarray, weights: Graph) -> tuple[np.ndarray, Graph, np.ndarray]:
    """The areas with neighbours and their graph: esda's permutation engine fails on an
    island (an area with no neighbours), which is reported as ``no_neighbours`` and left
    out of the reference distribution too."""
    kept = weights.cardinalities.to_numpy() > 0
    if kept.all():
        return y, weights, kept
    ids = np.asarray(weights.unique_ids, dtype=object)[kept]
    return y[kept], weights.subgraph(ids), kept


def _expand(kept: np.ndarray, found: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Results on the connected areas, spread back over all areas (islands get NaN)."""
    if kept.all():
        return found
    spread = []
    for values in found:
        full = np.full(
            len(kept),
            "" if values.dtype.kind in "US" else np.nan,
            dtype=values.dtype if values.dtype.kind in "US" else float,
        )
        full[kept] = values
        spread.append(full)
    return tuple(spread)


def _esda_options(permutations: int, seed: int) -> dict:
    # One process: the machine's two cores are shared. The simulations are kept for
    # _tail_p: areas x permutations x 8 bytes while a test runs.
    return {"permutations": permutations, "seed": seed, "n_jobs": 1, "keep_simulations": True}


def _tail_p(observed: np.ndarray, simulated: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Pseudo p-value in the upper tail where ``upper``, else the lower, ties counted as
    extreme.

    esda's own ``p_sim`` leaves ties out on the lower tail, which counts make common:
    measured on Poisson noise over the 29 Cardiff wards, it flagged something after FDR
    control in 8.7% of replications at alpha 5% (Local Moran); this count, in 2%.
    """
    tolerance = 1e-9 * np.maximum(1.0, np.abs(observed))[:, None]
    at_least = (simulated >= observed[:, None] - tolerance).sum(axis=1)
    at_most = (simulated <= observed[:, None] + tolerance).sum(axis=1)
    return (1 + np.where(upper, at_least, at_most)) / (simulated.shape[1] + 1)


@contextmanager
def _quiet_esda():
    """Silence esda's notice that its default alternative will change: this module
    computes its p-values from the simulations itself."""
    # Its z_sim divides by zero for islands, whose simulations never vary; unused here.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        yield


def _checked(
    counts: np.ndarray, weights: Graph, permutations: int, seed: int, alpha: float
) -> np.ndarray:
    if not isinstance(weights, Graph):
        raise TypeError(f"weights: expected a libpysal Graph (see contiguity), not {type(weights)}")
    y = np.array(counts, dtype=float)  # a copy: esda must never see the caller's array
    if y.shape != (weights.n,):
        raise ValueError(f"counts have shape {y.shape}: expected ({weights.n},), one per area")
    if permutations < 99:
        raise ValueError(f"permutations {permutations}: expected at least 99")
    if not 0 <= seed < 2**32:  # esda seeds numpy's legacy generator
        raise ValueError(f"seed {seed}: expected a whole number from 0 to 2**32 - 1")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha {alpha}: expected a rate between 0 and 1")
    return y


def _result(
    statistic: str,
    y: np.ndarray,
    weights: Graph,
    found: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    permutations: int,
    seed: int,
    alpha: float,
) -> HotspotResult:
    """Adjust for multiple testing and classify; ``found`` is (values, z, p_sim, kinds)."""
    values, z, p_sim, kinds = found
    tested = weights.cardinalities.to_numpy() > 0
    p_adjusted = np.full(len(y), np.nan)
    if tested.any():
        two_sided = np.minimum(1.0, 2 * p_sim[tested])
        p_adjusted[tested] = multipletests(two_sided, alpha=alpha, method="fdr_bh")[1]
    significant = tested & (np.nan_to_num(p_adjusted, nan=1.0) <= alpha)
    classification = tuple(
        str(kind) if sig else "not_significant" if has else "no_neighbours"
        for has, sig, kind in zip(tested, significant, kinds, strict=True)
    )
    return HotspotResult(
        statistic=statistic,
        codes=tuple(weights.unique_ids),
        counts=y,
        values=np.where(tested, values, np.nan),
        z=np.where(tested, z, np.nan),
        direction=tuple(str(kind) if has else "" for has, kind in zip(tested, kinds, strict=True)),
        p_sim=np.where(tested, p_sim, np.nan),
        p_adjusted=p_adjusted,
        classification=classification,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
    )


def _untestable(
    statistic: str, y: np.ndarray, weights: Graph, permutations: int, seed: int, alpha: float
) -> HotspotResult:
    """All counts equal (often all zero): nothing stands out, so nothing is tested."""
    has_neighbours = weights.cardinalities.to_numpy() > 0
    nothing = np.full(len(y), np.nan)
    return HotspotResult(
        statistic=statistic,
        codes=tuple(weights.unique_ids),
        counts=y,
        values=nothing,
        z=nothing,
        direction=("",) * len(y),
        p_sim=nothing,
        p_adjusted=nothing,
        classification=tuple(
            "not_significant" if has else "no_neighbours" for has in has_neighbours
        ),
        alpha=alpha,
        permutations=permutations,
        seed=seed,
    )
