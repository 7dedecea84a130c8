"""Template errors, worded as Go's text/template words them."""


class TemplateError(Exception):
    """A template failed to parse or to execute; the message is Go's."""
