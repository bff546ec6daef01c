"""Staffing rule for isolation sites (pure: no Django).

Seed 002 篇6 三(三)2: "每200名隔离人员建议配置具备专业资质的社会工作者或心理咨询师6—9人" —
for every 200 people in (centralised) isolation, 6 to 9 qualified social workers or
counsellors are recommended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PER_PEOPLE = 200
RECOMMENDED_MIN = 6
RECOMMENDED_MAX = 9


@dataclass(frozen=True)
class StaffingCheck:
    isolated: int
    qualified: int
    needed_min: int
    needed_max: int

    @property
    def short_by(self) -> int:
        return max(0, self.needed_min - self.qualified)


def isolation_staffing(isolated: int, qualified: int) -> StaffingCheck:
    """Recommended qualified staff for ``isolated`` people (rounded up: 1 person needs 1)."""
    if isolated < 0 or qualified < 0:
        raise ValueError("counts cannot be negative")
    return StaffingCheck(
        isolated=isolated,
        qualified=qualified,
        needed_min=math.ceil(isolated * RECOMMENDED_MIN / PER_PEOPLE),
        needed_max=math.ceil(isolated * RECOMMENDED_MAX / PER_PEOPLE),
    )
