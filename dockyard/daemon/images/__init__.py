"""The daemon's image service (pull, push, unpack, save, load, import, names, removal) and the
pieces between it and the Engine API: Docker's progress messages, registry auth, thread bridges."""
