"""Dockyard's security defaults: its own seccomp profile, user-supplied profiles, and user
namespace remapping (subordinate id ranges, shifted layer ownership, the spec's id maps)."""
