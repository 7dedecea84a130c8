"""The state of a stage while its instructions run: the image so far (config, history, layers), the
variables in scope, and the step that makes the next image.

Every step ends in an image (an untagged one until the build tags the last): ``commit`` writes the
config (Docker's shape, nothing of the build host in it) with one more history entry, and the layers
so far plus the step's new layer if it made one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...images.compose import LayerBlob, host_platform_fields, write_image
from ...images.layerio import chain_ids
from ..args import StageScope
from . import imageconfig


@dataclass
class StageState:
    name: str
    scope: StageScope
    image_id: str = ""                       # "" until a step made one (FROM scratch)
    run_config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    layers: list[LayerBlob] = field(default_factory=list)
    platform: dict = field(default_factory=host_platform_fields)
    author: str = ""
    cmd_set: bool = False                    # CMD given in this stage (ENTRYPOINT keeps it then)

    @property
    def diff_ids(self) -> list[str]:
        return [x.diff_id for x in self.layers]

    @property
    def chain(self) -> str | None:
        ids = chain_ids(self.diff_ids)
        return ids[-1] if ids else None

    @property
    def shell(self) -> list[str]:
        return list(self.run_config.get("Shell") or imageconfig.DEFAULT_SHELL)

    def load(self, image) -> None:
        """Take the image (a base, or a cache hit) as the stage's current image."""
        cfg = image.config
        self.image_id = image.id
        self.run_config = imageconfig.normalize(cfg.get("config"))
        self.history = list(cfg.get("history") or [])
        self.layers = [LayerBlob(x.digest, x.media_type, x.size, x.diff_id, x.unpacked_size or 0)
                       for x in image.layers]
        self.platform = {k: cfg[k] for k in ("architecture", "os", "variant") if cfg.get(k)} or host_platform_fields()
        self.author = cfg.get("author") or ""

    def start_scratch(self) -> None:
        self.image_id = ""
        self.run_config = imageconfig.normalize({"Env": [imageconfig.DEFAULT_PATH]})
        self.history, self.layers = [], []
        self.platform = host_platform_fields()
        self.author = ""

    def commit(self, store, created: str, created_by: str, layer: LayerBlob | None = None,
               empty_layer: bool | None = None) -> str:
        """Write the next image of the stage; returns its ID (the stage's current image now)."""
        entry = imageconfig.history_entry(created, created_by, layer is None if empty_layer is None else empty_layer)
        history = self.history + [entry]
        layers = self.layers + ([layer] if layer is not None else [])
        config: dict = {"architecture": self.platform.get("architecture", "")}
        if self.author:
            config["author"] = self.author
        config["config"] = imageconfig.normalize(self.run_config)
        config["created"] = created
        config["history"] = history
        config["os"] = self.platform.get("os", "linux")
        if self.platform.get("variant"):
            config["variant"] = self.platform["variant"]
        img = write_image(store, config, layers, parent=self.image_id or None)
        self.image_id, self.history, self.layers = img.id, history, layers
        self.run_config = imageconfig.normalize(self.run_config)
        return img.id
