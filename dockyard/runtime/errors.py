"""The runtime's error type: one line that says what failed and on which object."""


class RuntimeFailure(Exception):
    """A runtime operation failed; str() is the one-line message shown to the user."""


class ContainerNotFound(RuntimeFailure):
    def __init__(self, cid: str):
        super().__init__(f"container does not exist: {cid}")
