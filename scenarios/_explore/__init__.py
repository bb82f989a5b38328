"""Exhaustive exploration of a small world: ``assocsim explore`` (docs/explore.md)."""
