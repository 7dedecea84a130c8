"""The front end's one error type: what went wrong, in which file, on which line."""
from __future__ import annotations


class DockerfileError(ValueError):
    """A Dockerfile could not be parsed or one of its instructions is invalid.

    ``message`` is the bare problem ("unknown instruction: FORM (did you mean FROM?)"),
    ``line``/``end_line`` the 1-based lines it spans (None when the problem is the whole file),
    ``filename`` the file as the user named it. ``str()`` gives ``Dockerfile:3: <problem>``;
    :meth:`docker_message` gives the wording Docker's builders use for the API.
    """

    def __init__(self, message: str, line: int | None = None, end_line: int | None = None,
                 filename: str = "Dockerfile"):
        self.message = message
        self.line = line if line else None
        self.end_line = (end_line if end_line and line and end_line >= line else self.line)
        self.filename = filename
        super().__init__(message)

    def __str__(self) -> str:
        if self.line:
            return f"{self.filename}:{self.line}: {self.message}"
        return f"{self.filename}: {self.message}"

    def docker_message(self) -> str:
        """The message as BuildKit and the classic builder word it."""
        if self.line:
            return f"dockerfile parse error on line {self.line}: {self.message}"
        return self.message

    def located(self, line: int | None, end_line: int | None = None) -> "DockerfileError":
        """This error with a location, unless it already has one (like BuildKit's WithLocation)."""
        if self.line:
            return self
        return DockerfileError(self.message, line, end_line, self.filename)

    def named(self, filename: str) -> "DockerfileError":
        """This error attributed to another file name (``-f build/Dockerfile.dev``)."""
        return DockerfileError(self.message, self.line, self.end_line, filename)
