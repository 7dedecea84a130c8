"""Snapshots: image layers unpacked once and stacked (overlayfs, or copies).

Modules: layerstream/tarstream (reading layer blobs), apply (a layer onto a
directory), snapshotter (the interface) with overlay and native, mount
(mounting what a snapshotter returns), detect (choosing one), unpack (an
image's layers by chain ID), changes/diff (a snapshot back into a layer).
Nothing is imported here, to keep importing the package cheap.
"""
