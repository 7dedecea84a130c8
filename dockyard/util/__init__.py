"""Small helpers shared by every part of Dockyard (standard library only, cheap to import)."""
