"""The command table: names (and management-command forms) → modules under ``dockyard.cli.commands``.

Kept free of imports so ``main`` can find a verb without loading any other verb.
"""
from __future__ import annotations

# name -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "attach": ("attach", "Attach local standard input, output, and error streams to a running container"),
    "build": ("build", "Build an image from a Dockerfile"),
    "commit": ("commit", "Create a new image from a container's changes"),
    "cp": ("cp", "Copy files/folders between a container and the local filesystem"),
    "create": ("create", "Create a new container"),
    "diff": ("diff", "Inspect changes to files or directories on a container's filesystem"),
    "events": ("events", "Get real time events from the server"),
    "exec": ("exec_", "Execute a command in a running container"),
    "export": ("export", "Export a container's filesystem as a tar archive"),
    "history": ("history", "Show the history of an image"),
    "images": ("images", "List images"),
    "import": ("import_", "Import the contents from a tarball to create a filesystem image"),
    "info": ("info", "Display system-wide information"),
    "inspect": ("inspect", "Return low-level information on Docker objects"),
    "kill": ("kill", "Kill one or more running containers"),
    "load": ("load", "Load an image from a tar archive or STDIN"),
    "login": ("login", "Authenticate to a registry"),
    "logout": ("logout", "Log out from a registry"),
    "logs": ("logs", "Fetch the logs of a container"),
    "pause": ("pause", "Pause all processes within one or more containers"),
    "port": ("port", "List port mappings or a specific mapping for the container"),
    "ps": ("ps", "List containers"),
    "pull": ("pull", "Download an image from a registry"),
    "push": ("push", "Upload an image to a registry"),
    "rename": ("rename", "Rename a container"),
    "restart": ("restart", "Restart one or more containers"),
    "rm": ("rm", "Remove one or more containers"),
    "rmi": ("rmi", "Remove one or more images"),
    "run": ("run", "Create and run a new container from an image"),
    "save": ("save", "Save one or more images to a tar archive (streamed to STDOUT by default)"),
    "start": ("start", "Start one or more stopped containers"),
    "stats": ("stats", "Display a live stream of container(s) resource usage statistics"),
    "stop": ("stop", "Stop one or more running containers"),
    "tag": ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "top": ("top", "Display the running processes of a container"),
    "unpause": ("unpause", "Unpause all processes within one or more containers"),
    "update": ("update", "Update configuration of one or more containers"),
    "version": ("version", "Show the Docker version information"),
    "wait": ("wait", "Block until one or more containers stop, then print their exit codes"),
}

MANAGEMENT: dict[str, tuple[str, dict[str, str]]] = {
    "container": ("Manage containers", {
        "attach": "attach", "commit": "commit", "cp": "cp", "create": "create", "diff": "diff",
        "exec": "exec_", "export": "export", "inspect": "container_inspect", "kill": "kill", "logs": "logs",
        "ls": "ps", "list": "ps", "ps": "ps", "pause": "pause", "port": "port", "prune": "container_prune",
        "rename": "rename", "restart": "restart", "rm": "rm", "remove": "rm", "run": "run", "start": "start",
        "stats": "stats", "stop": "stop", "top": "top", "unpause": "unpause", "update": "update", "wait": "wait",
    }),
    "image": ("Manage images", {
        "base": "image_base", "build": "build", "history": "history", "import": "import_", "inspect": "image_inspect", "load": "load", "ls": "images",
        "list": "images", "prune": "image_prune", "pull": "pull", "push": "push", "rm": "rmi", "remove": "rmi",
        "save": "save", "tag": "tag",
    }),
    "volume": ("Manage volumes", {
        "create": "volume_create", "inspect": "volume_inspect", "ls": "volume_ls", "list": "volume_ls",
        "prune": "volume_prune", "rm": "volume_rm", "remove": "volume_rm",
    }),
    "network": ("Manage networks", {
        "connect": "network_connect", "create": "network_create", "disconnect": "network_disconnect",
        "inspect": "network_inspect", "ls": "network_ls", "list": "network_ls", "prune": "network_prune",
        "rm": "network_rm", "remove": "network_rm",
    }),
    "system": ("Manage Docker", {
        "df": "system_df", "events": "events", "info": "info", "prune": "system_prune",
    }),
}

# names listed in help (aliases hidden)
MANAGEMENT_LISTED = {
    "container": ["attach", "commit", "cp", "create", "diff", "exec", "export", "inspect", "kill", "logs", "ls",
                  "pause", "port", "prune", "rename", "restart", "rm", "run", "start", "stats", "stop", "top",
                  "unpause", "update", "wait"],
    "image": ["base", "build", "history", "import", "inspect", "load", "ls", "prune", "pull", "push", "rm", "save", "tag"],
    "volume": ["create", "inspect", "ls", "prune", "rm"],
    "network": ["connect", "create", "disconnect", "inspect", "ls", "prune", "rm"],
    "system": ["df", "events", "info", "prune"],
}

COMMON = ["run", "exec", "ps", "build", "pull", "push", "images", "login", "logout", "version", "info"]


def module_for(path: list[str]) -> str | None:
    if len(path) == 1:
        entry = COMMANDS.get(path[0])
        return entry[0] if entry else None
    group = MANAGEMENT.get(path[0])
    if group is None or len(path) != 2:
        return None
    return group[1].get(path[1])
