"""Framework-free helpers. Nothing in this package imports Django."""
