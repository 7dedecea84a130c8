"""The fields ``images --format`` and ``history --format`` offer (docker's image/history contexts)."""
from __future__ import annotations

import time

from .formatter import ellipsis, truncate_id
from .reference import RefError, parse
from .units import go_time_string, human_duration, human_size

DEFAULT_TABLE = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}"
                 "\t{{.Size}}")
DEFAULT_TABLE_DIGEST = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                        "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}")
HEADER = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "CreatedSince": "CREATED",
          "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS", "VirtualSize": "SIZE",
          "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"}


def image_format(source: str, quiet: bool, digest: bool) -> str:
    if source == "table":
        if quiet:
            return "{{.ID}}"
        return DEFAULT_TABLE_DIGEST if digest else DEFAULT_TABLE
    if source == "raw":
        if quiet:
            return "image_id: {{.ID}}"
        d = "digest: {{.Digest}}\n" if digest else ""
        return ("repository: {{ .Repository }}\ntag: {{.Tag}}\n" + d +
                "image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n")
    if source.startswith("table") and digest and "{{.Digest}}" not in source:
        source += "\t{{.Digest}}"
    return source


class ImageContext:
    GO_TYPE = "*formatter.imageContext"

    def __init__(self, i: dict, repo: str, tag: str, digest: str, trunc: bool, now: float):
        self.i, self.repo, self.tag, self.digest, self.trunc, self.now = i, repo, tag, digest, trunc, now

    def ID(self) -> str:
        i = self.i.get("Id") or ""
        return truncate_id(i) if self.trunc else i

    def Repository(self) -> str:
        return self.repo

    def Tag(self) -> str:
        return self.tag

    def Digest(self) -> str:
        return self.digest

    def CreatedSince(self) -> str:
        return human_duration(self.now - (self.i.get("Created") or 0)) + " ago"

    def CreatedAt(self) -> str:
        return go_time_string(self.i.get("Created") or 0)

    def Size(self) -> str:
        return human_size(self.i.get("Size") or 0, 3)

    def Containers(self) -> str:
        c = self.i.get("Containers", -1)
        return "N/A" if c == -1 or c is None else str(c)

    def VirtualSize(self) -> str:
        return human_size(self.i.get("Size") or 0)

    def SharedSize(self) -> str:
        s = self.i.get("SharedSize", -1)
        return "N/A" if s == -1 or s is None else human_size(s)

    def UniqueSize(self) -> str:
        size, shared = self.i.get("Size", -1), self.i.get("SharedSize", -1)
        if size == -1 or shared == -1 or shared is None:
            return "N/A"
        return human_size(size - shared)

    def MarshalJSON(self) -> dict:
        return {"Containers": self.Containers(), "CreatedAt": self.CreatedAt(), "CreatedSince": self.CreatedSince(),
                "Digest": self.Digest(), "ID": self.ID(), "Repository": self.Repository(),
                "SharedSize": self.SharedSize(), "Size": self.Size(), "Tag": self.Tag(),
                "UniqueSize": self.UniqueSize(), "VirtualSize": self.VirtualSize()}


def _dangling(img: dict) -> bool:
    tags, digests = img.get("RepoTags") or [], img.get("RepoDigests") or []
    if not tags and not digests:
        return True
    return tags == ["<none>:<none>"] and digests == ["<none>@<none>"]


def image_contexts(images: list[dict], show_digests: bool, need_digest: bool, trunc: bool) -> list[ImageContext]:
    """One row per repository:tag (and per digest when asked), as docker's imageFormatTaggedAndDigest."""
    now = time.time()
    out: list[ImageContext] = []
    for img in images:
        if _dangling(img):
            out.append(ImageContext(img, "<none>", "<none>", "<none>", trunc, now))
            continue
        repo_tags: dict[str, list[str]] = {}
        repo_digests: dict[str, list[str]] = {}
        for s in img.get("RepoTags") or []:
            try:
                r = parse(s)
            except RefError:
                continue
            if r.tag:
                repo_tags.setdefault(r.familiar_name(), []).append(r.tag)
        for s in img.get("RepoDigests") or []:
            try:
                r = parse(s)
            except RefError:
                continue
            if r.digest:
                repo_digests.setdefault(r.familiar_name(), []).append(r.digest)
        for repo, tags in repo_tags.items():
            digests = repo_digests.pop(repo, [])
            if not need_digest:
                digests = []
            for tag in tags:
                if not digests:
                    out.append(ImageContext(img, repo, tag, "<none>", trunc, now))
                for d in digests:
                    out.append(ImageContext(img, repo, tag, d, trunc, now))
        for repo, digests in repo_digests.items():
            if show_digests:
                for d in digests:
                    out.append(ImageContext(img, repo, "<none>", d, trunc, now))
            else:
                out.append(ImageContext(img, repo, "<none>", "", trunc, now))
    return out


HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_HEADER = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
                  "Size": "SIZE", "Comment": "COMMENT"}


class HistoryContext:
    GO_TYPE = "*formatter.historyContext"

    def __init__(self, h: dict, trunc: bool, human: bool, now: float):
        self.h, self.trunc, self.human, self.now = h, trunc, human, now

    def ID(self) -> str:
        i = self.h.get("Id") or ""
        if i.startswith("<missing>"):
            return i
        return truncate_id(i) if self.trunc else i

    def CreatedAt(self) -> str:
        return _rfc3339_local(self.h.get("Created") or 0)

    def CreatedSince(self) -> str:
        if not self.human:
            return self.CreatedAt()
        return human_duration(self.now - (self.h.get("Created") or 0)) + " ago"

    def CreatedBy(self) -> str:
        s = (self.h.get("CreatedBy") or "").replace("\t", " ")
        return ellipsis(s, 45) if self.trunc else s

    def Size(self) -> str:
        if not self.human:
            return str(self.h.get("Size") or 0)
        return human_size(self.h.get("Size") or 0, 3)

    def Comment(self) -> str:
        return self.h.get("Comment") or ""

    def MarshalJSON(self) -> dict:
        return {"Comment": self.Comment(), "CreatedAt": self.CreatedAt(), "CreatedBy": self.CreatedBy(),
                "CreatedSince": self.CreatedSince(), "ID": self.ID(), "Size": self.Size()}


def _rfc3339_local(unix: float) -> str:
    lt = time.localtime(unix)
    off = time.strftime("%z", lt)
    zone = "Z" if off in ("+0000", "-0000") else f"{off[:3]}:{off[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + zone
