"""The four triggers of tidings, each its own entry point in ``tidings.triggers``."""
