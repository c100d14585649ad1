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
    IngestResult,
    commit_batch,
    file_sha256,
    prepare_batch,
)
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.places.areas import AreaLayer, load_area_layer
from cardiffmodel.places.gazetteer import Place, build_gazetteer
from cardiffmodel.places.matcher import Matcher
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
        places = self.settings.places
        return build_gazetteer(places.fsa_xml, places.police_uk_streets, self.settings.region_bbox)

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.gazetteer, aliases=self.settings.places.aliases)

    def layer(self, name: str) -> AreaLayer:
        if name not in self._layers:
            self._layers[name] = load_area_layer(self.settings.area(name))
        return self._layers[name]

    @property
    def layers(self) -> list[AreaLayer]:
        return [self.layer(a.layer) for a in self.settings.areas]

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
        prepared = prepare_batch(self.settings, source, path, self.matcher, self.layers, sha256=sha)
        with self.store() as store:
            return commit_batch(store, prepared)
