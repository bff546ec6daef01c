"""Reports (issue #9): read-only aggregates, dashboards, exports.

``tally`` keeps the aggregate tables (``Tally``) in step with the raw records: a write marks the
(unit, day) it changes (``TallyDirty``), the worker recomputes just those and adds the difference
to the unit and every unit above it. Dashboards read only the aggregate tables; ``naive`` is the
same figures by GROUP BY over the raw tables, for the tests and the bench to compare.
"""
