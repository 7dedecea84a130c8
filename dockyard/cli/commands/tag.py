"""dockyard tag: another name for an image."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError
from ..reference import RefError, parse

USAGE = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"
SHORT = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"
ARGS = (2, 2)


def flags(fs):
    pass


def main(app, opts, args):
    source, target = args
    try:
        ref = parse(target)
    except RefError as e:
        raise CLIError(f"Error parsing reference: \"{target}\" is not a valid repository/tag: {e}") from None
    if ref.digest:
        raise CLIError("refusing to create a tag with a digest reference")
    ref = ref.with_default_tag()
    app.api.request("POST", path("/images/{}/tag", source),
                    {"repo": ref.name, "tag": ref.tag}).read()
    return 0
