"""The classic builder's output stream, message by message, as dockerd writes it for ``POST /build``.

Every message is a dict for ``daemon.images.jsonmessage.encode``: ``{"stream": "Step 1/4 : FROM x\\n"}``,
``{"stream": " ---> Using cache\\n"}``, pull progress (``status``/``progressDetail``), ``{"aux": {"ID":
"sha256:…"}}``, and at the end ``{"errorDetail": {...}, "error": ...}`` when the build failed. With
``quiet`` nothing but the image ID is written, unless the build fails: then what was held back comes
first, so the client can show why (dockerd's ``q=1``).
"""
from __future__ import annotations

from typing import Callable

Sink = Callable[[dict], None]


def short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


class Reporter:
    def __init__(self, sink: Sink, quiet: bool = False):
        self._sink = sink
        self.quiet = quiet
        self._held: list[dict] = []
        self.started = False   # something was written (errors now go into the stream)

    def _send(self, msg: dict) -> None:
        self.started = True
        self._sink(msg)

    def emit(self, msg: dict) -> None:
        if self.quiet:
            self._held.append(msg)
        else:
            self._send(msg)

    def text(self, text: str) -> None:
        if text:
            self.emit({"stream": text})

    # -- the classic builder's lines ------------------------------------------------------------
    def step(self, n: int, total: int, text: str) -> None:
        self.text(f"Step {n}/{total} : {text}\n")

    def using_cache(self) -> None:
        self.text(" ---> Using cache\n")

    def running_in(self, container_id: str) -> None:
        self.text(f" ---> Running in {container_id[:12]}\n")

    def removing(self, container_id: str) -> None:
        self.text(f"Removing intermediate container {container_id[:12]}\n")

    def image(self, image_id: str) -> None:
        self.text(f" ---> {short(image_id)}\n")

    def output(self, data: bytes) -> None:
        """What a RUN writes (stdout and stderr, as it comes)."""
        if data:
            self.text(data.decode("utf-8", "replace"))

    def warning(self, text: str) -> None:
        self.text(f"[Warning] {text}\n")

    def progress(self, msg: dict) -> None:
        """A pull's progress message, passed on."""
        self.emit(msg)

    # -- the end ---------------------------------------------------------------------------------
    def success(self, image_id: str, tags: list[str]) -> None:
        self._send({"aux": {"ID": image_id}})
        if self.quiet:
            self._send({"stream": image_id + "\n"})
            return
        self.text(f"Successfully built {short(image_id)}\n")
        for t in tags:
            self.text(f"Successfully tagged {t}\n")

    def failure(self, message: str, code: int = 1) -> list[dict]:
        """The messages that end a failed build (held-back output first), for the caller to send."""
        held, self._held = self._held, []
        detail = {"code": code, "message": message} if code else {"message": message}
        return held + [{"errorDetail": detail, "error": message}]

    @property
    def holding(self) -> bool:
        """Quiet output is held back (an error must go into the stream, after it)."""
        return bool(self._held)

