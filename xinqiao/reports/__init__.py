"""Reports (issue #9): read-only aggregates, dashboards, exports. Begun with the pure core of
small-cell suppression (``cells``)."""
