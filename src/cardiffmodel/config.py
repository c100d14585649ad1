"""Project settings, loaded from ``cardiff.toml`` in the project folder.

A deployment is a folder (like a git repository): ``cardiff.toml`` names the sources and
how their columns map to the canonical incident, the area layers, the gazetteer inputs,
the Local Violence Prevention Groups and the thresholds. Paths in the file are relative
to the folder that holds it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from cardiffmodel.schema import AREA_LAYERS, MAPPABLE_FIELDS, SOURCES

CONFIG_NAME = "cardiff.toml"
FORMATS = ("csv", "xlsx", "police_uk", "istv")
AUDIENCES = ("health", "police", "council", "partnership")


class ConfigError(ValueError):
    """cardiff.toml is missing, malformed or inconsistent; the message says where."""


@dataclass(frozen=True)
class SourceConfig:
    """How one organisation's extract maps onto the canonical incident.

    ``columns`` maps a canonical field (see ``schema.MAPPABLE_FIELDS``) to the file's column,
    or to a list of columns whose text is joined with a space (a date and a time column);
    ``formats`` gives a strptime format per date/time field; ``codes`` translates the file's
    values per field (matched case-insensitively) to the canonical code lists.
    """

    name: str
    kind: str
    site: str
    format: str = "csv"
    columns: dict[str, str | list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None
    crime_types: tuple[str, ...] = ()
    site_location: tuple[float, float] | None = None  # lon, lat of the hospital
    covers: tuple[date, date] | None = None  # first and last day every file covers


@dataclass(frozen=True)
class AreaConfig:
    """A polygon layer (beats, LSOAs, wards, local authorities) and where its population is."""

    layer: str
    path: Path
    code_field: str
    name_field: str
    population_field: str | None = None
    population_path: Path | None = None


@dataclass(frozen=True)
class PlacesConfig:
    """Inputs of the gazetteer that free-text locations are resolved against."""

    fsa_xml: tuple[Path, ...] = ()
    police_uk_streets: tuple[Path, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    csv: tuple[Path, ...] = ()  # hand-made places: name, lon, lat, ... (places/gazetteer.py)
    postcodes: tuple[Path, ...] = ()  # postcode lookup CSVs (places/postcodes.py)
    # any other gazetteer file, told apart by its contents (places/sources.py): FSA CSV,
    # OS Open Names CSV, NaPTAN Stops.csv, OpenStreetMap GeoJSON or .osm XML
    sources: tuple[Path, ...] = ()


@dataclass(frozen=True)
class GroupConfig:
    """A Local Violence Prevention Group: a named set of areas of one layer, and its audience."""

    name: str
    layer: str
    areas: tuple[str, ...]
    audience: str = "partnership"

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about one deployment."""

    root: Path
    name: str
    store: Path
    region_bbox: tuple[float, float, float, float] | None  # None: from the area's bounds
    sources: tuple[SourceConfig, ...]
    areas: tuple[AreaConfig, ...]
    places: PlacesConfig
    groups: tuple[GroupConfig, ...]
    engine: str = "duckdb"
    suppress_below: int = 5
    boundary: Path | None = None  # the deployment's area; the beat layer's when None

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{CONFIG_NAME}: no source named {name!r} (configured: {known})")

    def area(self, layer: str) -> AreaConfig:
        for area in self.areas:
            if area.layer == layer:
                return area
        raise ConfigError(f"{CONFIG_NAME}: no area layer {layer!r} is configured")

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"


def init_project(project: Path) -> Path:
    """Write a commented starting ``cardiff.toml``; an existing one is never overwritten."""
    path = project / CONFIG_NAME
    if path.exists():
        raise ConfigError(f"{path}: already exists; edit it rather than starting again")
    project.mkdir(parents=True, exist_ok=True)
    template = resources.files("cardiffmodel").joinpath("templates", CONFIG_NAME)
    path.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def load_settings(project: Path) -> Settings:
    """Read ``cardiff.toml`` from the project folder and check it."""
    path = project / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path}: not found; run 'cardiff init' or 'cardiff demo' in {project}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    return settings_from_dict(raw, project.resolve())


def write_settings(raw: dict[str, Any], project: Path) -> Settings:
    """Check a settings dictionary, write it as ``cardiff.toml`` and return the Settings."""
    settings = settings_from_dict(raw, project.resolve())
    (project / CONFIG_NAME).write_text(tomli_w.dumps(raw), encoding="utf-8")
    return settings


def settings_from_dict(raw: dict[str, Any], root: Path) -> Settings:
    """Build Settings from the parsed TOML, naming the section of any mistake."""
    project = raw.get("project", {})
    sources = tuple(_source(s, i) for i, s in enumerate(raw.get("sources", [])))
    areas = tuple(_area(a, i, root) for i, a in enumerate(raw.get("areas", [])))
    layers = {a.layer for a in areas}
    groups = tuple(_group(g, i, layers) for i, g in enumerate(raw.get("groups", [])))
    places = raw.get("places", {})
    bbox = tuple(project["region_bbox"]) if "region_bbox" in project else None
    if bbox is not None and len(bbox) != 4:
        raise ConfigError(f"{CONFIG_NAME} [project] region_bbox: expected 4 numbers, got {bbox}")
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"{CONFIG_NAME} [[sources]]: source names must be unique: {names}")
    return Settings(
        root=root,
        name=project.get("name", root.name),
        store=root / project.get("store", "cardiff.duckdb"),
        region_bbox=bbox,  # type: ignore[arg-type]
        sources=sources,
        areas=areas,
        places=PlacesConfig(
            fsa_xml=tuple(root / p for p in places.get("fsa_xml", [])),
            police_uk_streets=tuple(root / p for p in places.get("police_uk_streets", [])),
            aliases=dict(places.get("aliases", {})),
            csv=tuple(root / p for p in places.get("csv", [])),
            postcodes=tuple(root / p for p in places.get("postcodes", [])),
            sources=tuple(root / p for p in places.get("sources", [])),
        ),
        groups=groups,
        engine=project.get("engine", "duckdb"),
        suppress_below=int(project.get("suppress_below", 5)),
        boundary=root / project["boundary"] if "boundary" in project else None,
    )


def _require(section: dict[str, Any], key: str, where: str) -> Any:
    if key not in section:
        raise ConfigError(f"{CONFIG_NAME} {where}: missing required key {key!r}")
    return section[key]


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{CONFIG_NAME} {where}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _source(raw: dict[str, Any], index: int) -> SourceConfig:
    where = f"[[sources]] #{index + 1}"
    name = _require(raw, "name", where)
    where = f"[[sources]] {name!r}"
    columns = dict(raw.get("columns", {}))
    for canonical in columns:
        _one_of(canonical, MAPPABLE_FIELDS, f"{where} columns")
    fmt = _one_of(raw.get("format", "csv"), FORMATS, f"{where} format")
    if fmt in ("csv", "xlsx") and "source_record_id" not in columns:
        raise ConfigError(f"{CONFIG_NAME} {where} columns: source_record_id must be mapped")
    return SourceConfig(
        name=name,
        kind=_one_of(_require(raw, "kind", where), SOURCES, f"{where} kind"),
        site=_require(raw, "site", where),
        format=fmt,
        columns=columns,
        formats=dict(raw.get("formats", {})),
        codes={
            k: {str(a).strip().lower(): b for a, b in v.items()}
            for k, v in raw.get("codes", {}).items()
        },
        delimiter=raw.get("delimiter", ","),
        encoding=raw.get("encoding", "utf-8"),
        sheet=raw.get("sheet"),
        crime_types=tuple(raw.get("crime_types", ())),
        site_location=tuple(raw["site_location"]) if "site_location" in raw else None,
        covers=_covers(raw["covers"], where) if "covers" in raw else None,
    )


def _covers(value: Any, where: str) -> tuple[date, date]:
    """``covers = ["2019-01", "2019-12"]``: the first day of the first month to the last
    day of the last month."""
    try:
        first, last = (date(*(int(p) for p in str(m).split("-")), 1) for m in value)
    except (TypeError, ValueError):
        raise ConfigError(
            f'{CONFIG_NAME} {where} covers: expected two months like ["2019-01", "2019-12"], '
            f"got {value!r}"
        ) from None
    if last < first:
        raise ConfigError(f"{CONFIG_NAME} {where} covers: {value[1]} is before {value[0]}")
    after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return first, after - timedelta(days=1)


def _area(raw: dict[str, Any], index: int, root: Path) -> AreaConfig:
    where = f"[[areas]] #{index + 1}"
    population_path = raw.get("population_path")
    return AreaConfig(
        layer=_one_of(_require(raw, "layer", where), AREA_LAYERS, f"{where} layer"),
        path=root / _require(raw, "path", where),
        code_field=_require(raw, "code_field", where),
        name_field=_require(raw, "name_field", where),
        population_field=raw.get("population_field"),
        population_path=root / population_path if population_path else None,
    )


def _group(raw: dict[str, Any], index: int, layers: set[str]) -> GroupConfig:
    where = f"[[groups]] #{index + 1}"
    layer = _require(raw, "layer", where)
    if layer not in layers:
        raise ConfigError(f"{CONFIG_NAME} {where}: layer {layer!r} is not among [[areas]]")
    return GroupConfig(
        name=_require(raw, "name", where),
        layer=layer,
        areas=tuple(_require(raw, "areas", where)),
        audience=_one_of(raw.get("audience", "partnership"), AUDIENCES, f"{where} audience"),
    )
