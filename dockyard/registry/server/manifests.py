"""What the registry checks in a pushed manifest, apart from HTTP and storage.

``inspect`` parses a Docker or OCI manifest or index (schema 1 is refused), settles its media type
(the ``mediaType`` field, else a manifest Content-Type, else its shape) and lists what it
references: blobs (config, layers) and child manifests (index entries) that must already be in
the repository, and its ``subject`` for the referrers API.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

from dockyard.spec import image as spec

from .errors import RegistryError

KNOWN_TYPES = spec.MANIFEST_TYPES + spec.INDEX_TYPES


@dataclass
class Inspected:
    doc: spec.Manifest | spec.Index
    media_type: str
    blobs: list[spec.Descriptor] = field(default_factory=list)       # must be blobs of the repository
    children: list[spec.Descriptor] = field(default_factory=list)    # must be manifests of the repository
    subject: spec.Descriptor | None = None

    def referrer_descriptor(self, digest: str, size: int) -> dict:
        """The descriptor the referrers API lists for this manifest."""
        desc = {"mediaType": self.media_type, "digest": digest, "size": size}
        artifact = self.doc.artifact_type
        if not artifact and isinstance(self.doc, spec.Manifest):
            artifact = self.doc.config.media_type
        if artifact:
            desc["artifactType"] = artifact
        if self.doc.annotations:
            desc["annotations"] = self.doc.annotations
        return desc


def _content_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def inspect(data: bytes, content_type: str | None) -> Inspected:
    """Parse and classify a pushed manifest; MANIFEST_INVALID when it is not acceptable."""
    ct = _content_type(content_type)
    if ct in (spec.DOCKER_MANIFEST_V1, spec.DOCKER_MANIFEST_V1_SIGNED):
        raise RegistryError("MANIFEST_INVALID", "Docker image manifest schema 1 is not supported")
    try:
        doc = spec.parse_manifest(data, ct if ct in KNOWN_TYPES else None)
    except spec.SpecError as e:
        raise RegistryError("MANIFEST_INVALID", str(e)) from None
    field_type = doc.media_type
    if field_type and ct in KNOWN_TYPES and ct != field_type:
        raise RegistryError("MANIFEST_INVALID", f"manifest mediaType {field_type} does not match the "
                            f"Content-Type {ct}")
    media_type = field_type or (ct if ct in KNOWN_TYPES else doc.content_type)
    out = Inspected(doc, media_type, subject=doc.subject)
    if isinstance(doc, spec.Manifest):
        for d in [doc.config, *doc.layers]:
            if d.urls and spec.is_foreign_layer(d.media_type):
                continue   # foreign layers are fetched from their URLs, not pushed
            out.blobs.append(d)
    else:
        for d in doc.manifests:
            if d.media_type in KNOWN_TYPES:
                out.children.append(d)
            else:
                out.blobs.append(d)
    return out


def embedded_data(desc: spec.Descriptor) -> bytes | None:
    """The content a descriptor carries in its ``data`` field (already checked against its digest)."""
    if desc.data is None:
        return None
    return base64.b64decode(desc.data)
