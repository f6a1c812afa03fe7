"""An example out-of-tree tidings channel."""
