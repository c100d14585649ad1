"""A deployment folder wired together: settings, store, gazetteer and area layers.

Commands (CLI, web, demo) act on a project; this module loads each part once and hands
it to the layer that needs it, so the layers themselves never read configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cardiffmodel.config import Settings, load_settings
from cardiffmodel.ingest.pipeline import (
    WORLD,
    IngestResult,
    commit_batch,
    file_sha256,
    prepare_batch,
)
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.places.areas import AreaLayer, load_area_layer
from cardiffmodel.places.gazetteer import Place, build_gazetteer
from cardiffmodel.places.matcher import Matcher
from cardiffmodel.places.postcodes import postcode_gazetteer
from cardiffmodel.places.review import Decision, ReviewedMatcher, load_decisions
from cardiffmodel.places.territory import Territory, load_territory
from cardiffmodel.store.duckdb_store import Store


@dataclass
class Project:
    """One deployment: the folder holding cardiff.toml, the store and the reports."""

    settings: Settings
    _layers: dict[str, AreaLayer] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path) -> Project:
        return cls(load_settings(folder))

    def store(self, read_only: bool = False) -> Store:
        return Store(self.settings.store, read_only=read_only)

    @cached_property
    def gazetteer(self) -> list[Place]:
        """Venues and streets, then postcodes; postcode sectors are checked against the
        beat layer (or the first layer when there is no beat layer)."""
        places, bbox = self.settings.places, self.region_bbox
        found = build_gazetteer(
            places.fsa_xml,
            places.police_uk_streets,
            bbox,
            places.csv,
            places.sources,
            address_streets=True,
        )
        if not places.postcodes:
            return found
        layers = {a.layer: a for a in self.settings.areas}
        beats = "beat" if "beat" in layers else next(iter(layers), None)
        within = self.layer(beats) if beats else None
        return found + postcode_gazetteer(places.postcodes, bbox, within)

    @cached_property
    def matcher(self) -> ReviewedMatcher:
        """The gazetteer matcher with the analysts' stored decisions applied."""
        matcher = Matcher(self.gazetteer, aliases=self.settings.places.aliases)
        return ReviewedMatcher(matcher, self.decisions())

    def decisions(self) -> dict[str, Decision]:
        """Stored review decisions by text key (none before the store exists)."""
        if not self.settings.store.exists():
            return {}
        # Read-only, like the web server's own connection: DuckDB refuses a second
        # connection to one file in one process with a different configuration.
        with self.store(read_only=True) as store:
            return load_decisions(store.con)

    def layer(self, name: str) -> AreaLayer:
        if name not in self._layers:
            self._layers[name] = load_area_layer(self.settings.area(name))
        return self._layers[name]

    @property
    def layers(self) -> list[AreaLayer]:
        return [self.layer(a.layer) for a in self.settings.areas]

    @cached_property
    def territory(self) -> Territory | None:
        """The deployment's area (``[project] boundary``, else the beat layer) with its
        layers; None when no areas are configured."""
        return load_territory(self.layers, self.settings.boundary)

    @property
    def region_bbox(self) -> tuple[float, float, float, float]:
        """Where coordinates are plausible: ``[project] region_bbox``, else the area's
        bounds with a margin, else the whole world."""
        if self.settings.region_bbox is not None:
            return self.settings.region_bbox
        territory = self.territory
        return territory.region_bbox if territory else WORLD

    def ingest(self, source: str, paths: Iterable[Path]) -> list[IngestResult]:
        """Ingest files one batch each; a rejected file is reported and the rest go on.

        The store is held only to check for a file already ingested and to write each
        batch, so other commands (and other ingests) can use it in between.
        """
        self.settings.source(source)  # an unknown source fails before any file is read
        results = []
        for path in paths:
            try:
                results.append(self._ingest_one(source, path))
            except FileRejected as err:
                results.append(IngestResult(source, str(path), skipped=f"rejected: {err}"))
        return results

    def _ingest_one(self, source: str, path: Path) -> IngestResult:
        sha = file_sha256(path)
        with self.store() as store:
            previous = store.batch_with_sha(source, sha)
        if previous:
            return IngestResult(source, str(path), skipped=f"already ingested as {previous}")
        prepared = prepare_batch(
            self.settings, source, path, self.matcher, self.territory, sha256=sha
        )
        with self.store() as store:
            return commit_batch(store, prepared)
