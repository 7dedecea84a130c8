"""What the image store returns: an image with its manifests, layers and names."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import layerio


@dataclass(frozen=True)
class LayerRef:
    digest: str  # blob digest in the content store
    media_type: str
    size: int  # blob size
    diff_id: str  # digest of the uncompressed tar
    unpacked_size: int  # Docker's layer size


@dataclass(frozen=True)
class ManifestRef:
    digest: str
    media_type: str
    layers: tuple[LayerRef, ...]


@dataclass
class Image:
    id: str  # config digest, "sha256:<hex>"
    config: dict  # the image configuration JSON as stored
    manifests: list[ManifestRef]  # newest first
    repo_tags: list[str] = field(default_factory=list)  # familiar "name:tag"
    repo_digests: list[str] = field(default_factory=list)  # familiar "name@sha256:..."
    created: str = ""
    created_unix: int = 0
    created_nanos: int = 0
    os: str = ""
    architecture: str = ""
    variant: str = ""
    size: int = 0
    parent: str = ""
    last_tag_time: str = ""

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]

    @property
    def manifest(self) -> ManifestRef:
        return self.manifests[0]

    @property
    def layers(self) -> tuple[LayerRef, ...]:
        return self.manifests[0].layers if self.manifests else ()

    @property
    def diff_ids(self) -> list[str]:
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def chain_ids(self) -> list[str]:
        return layerio.chain_ids(self.diff_ids)

    @property
    def run_config(self) -> dict:
        """The ``config`` section (Cmd, Env, ...), {} when absent."""
        return self.config.get("config") or {}

    @property
    def labels(self) -> dict:
        return self.run_config.get("Labels") or {}

    @property
    def dangling(self) -> bool:
        return not self.repo_tags
