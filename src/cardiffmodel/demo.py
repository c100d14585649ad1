"""``cardiff demo``: a complete project built from a synthetic city on real Cardiff data.

It copies the open data it needs into the folder, generates hospital, ambulance and police
extracts, writes ``cardiff.toml``, ingests every extract, writes one report per Local
Violence Prevention Group for the last month, and summarises what happened, so every
other command can then be tried in that folder.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cardiffmodel.analysis.counts import rank_areas
from cardiffmodel.analysis.selection import month_selection
from cardiffmodel.config import write_settings
from cardiffmodel.ingest.pipeline import IngestResult
from cardiffmodel.project import Project
from cardiffmodel.reports.builder import write_reports
from cardiffmodel.synth import CityManifest, generate_city

MARKER = ".cardiff-demo"
REGION_BBOX = [-3.35, 51.38, -3.05, 51.57]
OPEN_DATA = {
    "boundaries/cardiff_wards_2013.geojson": "wards.geojson",
    "boundaries/cardiff_lsoa2011.geojson": "lsoa2011.geojson",
    "boundaries/cardiff_lsoa2021_population_wimd.geojson": "lsoa2021_population.geojson",
    "venues/fsa_food_hygiene_cardiff_2020-11.xml": "fsa_cardiff.xml",
}
# Wards stand in for police beats (beats are not open data); groups are sets of wards.
GROUPS = {
    "City Centre and Bay": [
        "W05000857",
        "W05000854",
        "W05000853",
        "W05000873",
        "W05000877",
        "W05000863",
    ],
    "East Cardiff": [
        "W05000879",
        "W05000901",
        "W05000902",
        "W05000869",
        "W05000870",
        "W05000900",
        "W05000872",
        "W05000859",
    ],
    "North Cardiff": [
        "W05000864",
        "W05000868",
        "W05000865",
        "W05000876",
        "W05000881",
        "W05000862",
        "W05000867",
    ],
    "West Cardiff": [
        "W05000856",
        "W05000860",
        "W05000855",
        "W05000861",
        "W05000866",
        "W05000875",
        "W05000871",
        "W05000858",
    ],
}


class DemoError(RuntimeError):
    """The demo folder holds something that is not a demo; nothing was changed."""


@dataclass(frozen=True)
class DemoSummary:
    """The one-screen summary printed at the end of the demo."""

    folder: Path
    seconds: float
    rows_in: int
    accepted: int
    quarantined: int
    located: int
    period: str
    top_beats: tuple[tuple[str, int], ...]
    reports: tuple[Path, ...]

    def render(self) -> str:
        share = self.located / self.accepted if self.accepted else 0.0
        lines = [
            f"Demo project ready in {self.folder} ({self.seconds:.0f} s)",
            f"  records in:   {self.rows_in:,}",
            f"  accepted:     {self.accepted:,}",
            f"  quarantined:  {self.quarantined:,}  (see: cardiff --project {self.folder} "
            "quarantine)",
            f"  located:      {self.located:,} ({share:.0%}) placed on the map",
            f"  top beats in {self.period}:",
            *(f"    {name:<28} {count:>5}" for name, count in self.top_beats),
            "  reports:",
            *(f"    {path}" for path in self.reports),
        ]
        return "\n".join(lines)


def _prepare(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()) and not (folder / MARKER).exists():
        raise DemoError(f"{folder} is not empty and not a demo folder: choose an empty folder")
    for child in folder.iterdir():
        if child.name != MARKER:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (folder / MARKER).write_text("made by cardiff demo; rebuilt by the next run\n")


def _copy_open_data(data_dir: Path, folder: Path) -> None:
    target = folder / "open-data"
    target.mkdir()
    for source, name in OPEN_DATA.items():
        shutil.copyfile(data_dir / source, target / name)
    police = target / "police_uk"
    police.mkdir()
    for path in sorted((data_dir / "police_uk").glob("*.csv")):
        shutil.copyfile(path, police / path.name)
    shutil.copyfile(data_dir / "README.md", target / "SOURCES-AND-LICENCES.md")


def demo_settings(sources: tuple[dict, ...], folder: Path) -> dict:
    """The demo's cardiff.toml as a dictionary: synthetic sources, real areas and venues."""
    police = sorted(str(p.relative_to(folder)) for p in (folder / "open-data/police_uk").glob("*"))
    return {
        "project": {
            "name": "Cardiff (synthetic demo)",
            "store": "cardiff.duckdb",
            "region_bbox": REGION_BBOX,
            "suppress_below": 5,
        },
        "places": {
            "fsa_xml": ["open-data/fsa_cardiff.xml"],
            "police_uk_streets": police,
            "aliases": {"revs": "Revolution", "spoons": "Wetherspoon"},
        },
        "areas": [
            {
                "layer": "beat",
                "path": "open-data/wards.geojson",
                "code_field": "WD13CD",
                "name_field": "WD13NM",
                "population_field": "population",
                "population_path": "open-data/lsoa2021_population.geojson",
            },
            {
                "layer": "lsoa",
                "path": "open-data/lsoa2011.geojson",
                "code_field": "LSOA11CD",
                "name_field": "LSOA11NM",
            },
        ],
        "sources": [dict(s) for s in sources],
        "groups": [
            {"name": name, "layer": "beat", "areas": codes, "audience": "partnership"}
            for name, codes in GROUPS.items()
        ],
    }


def _last_month(end: date) -> str:
    year, month = (end.year, end.month - 1) if end.month > 1 else (end.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def build_demo_store(
    folder: Path, data_dir: Path, seed: int = 1, months: int = 24, scale: float = 1.0
) -> tuple[CityManifest, list[IngestResult]]:
    """The demo project without its reports: open data, extracts, cardiff.toml, the store.

    For tests and benchmarks that need only the ingested store (the PDF reports are the
    slowest part of the demo).
    """
    _prepare(folder)
    _copy_open_data(data_dir, folder)
    manifest = generate_city(
        folder / "extracts",
        data_dir=data_dir,
        seed=seed,
        start=date(2018, 1, 1),
        months=months,
        scale=scale,
    )
    write_settings(demo_settings(manifest.sources, folder), folder)
    project = Project.open(folder)
    results = [r for name, files in manifest.files.items() for r in project.ingest(name, files)]
    return manifest, results


def run_demo(
    folder: Path, data_dir: Path, seed: int = 1, months: int = 24, scale: float = 1.0
) -> DemoSummary:
    """Build the demo project in ``folder`` and return its summary."""
    started = time.perf_counter()
    manifest, results = build_demo_store(folder, data_dir, seed, months, scale)
    project = Project.open(folder)
    period = _last_month(manifest.end)
    reports = write_reports(project, project.settings.groups, period, formats=("html", "pdf"))
    with project.store(read_only=True) as store:
        ranking = rank_areas(
            store.incidents(), month_selection(period), project.layer("beat").lookup()
        )
    return DemoSummary(
        folder=folder,
        seconds=time.perf_counter() - started,
        rows_in=sum(r.rows_in - r.filtered - r.unlocatable for r in results),
        accepted=sum(r.accepted for r in results),
        quarantined=sum(r.quarantined for r in results),
        located=sum(r.located for r in results),
        period=period,
        top_beats=tuple((r.name, r.count) for r in ranking.rows[:5]),
        reports=tuple(reports),
    )
