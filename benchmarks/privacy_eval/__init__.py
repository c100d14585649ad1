"""Held-out evaluation set for the identifier scrubber (see README.md in this folder)."""
