"""Generated identity data for tests and benchmarks: nothing here belongs to anyone.

Document numbers use the address code 99xxxx, which is not a region of China, with a correct
GB 11643 check character; phone numbers use the 170 0000 block."""

from __future__ import annotations

import random
from datetime import date, timedelta

from xinqiao.people.idcard import check_char


def resident_id(born: date, serial: int, *, region: str = "990101", male: bool = True) -> str:
    sequence = serial % 500 * 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def phone(serial: int) -> str:
    return f"1700000{serial % 10000:04d}"


def random_people(n: int, *, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000))
        male = rng.random() < 0.5
        region = f"99{i // 500 % 10000:04d}"
        rows.append(
            {
                "姓名": "测试" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + str(i),
                "性别": "男" if male else "女",
                "出生日期": born.isoformat(),
                "证件类型": "居民身份证",
                "证件号码": resident_id(born, i, region=region, male=male),
                "联系电话": phone(i),
                "现住址": f"测试路{i}号",
            }
        )
    return rows
