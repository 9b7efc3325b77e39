"""Batch case import reads times written in every usual way as the same instants (real PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import pytest
import shapely

from geodata import cases as C
from geodata.errors import ImportRejected

# (text as in a file, the instant it means; naive text is district time, Asia/Shanghai in the demo)
SPELLINGS = [
    ("2026-10-01 08:30", datetime(2026, 10, 1, 0, 30, tzinfo=UTC)),
    ("2026-10-01T08:30:00+08:00", datetime(2026, 10, 1, 0, 30, tzinfo=UTC)),
    ("2026-10-01T00:30:00Z", datetime(2026, 10, 1, 0, 30, tzinfo=UTC)),
    ("2026-10-01 08:30:00-0500", datetime(2026, 10, 1, 13, 30, tzinfo=UTC)),
    ("2026-10-01T0830+0800", datetime(2026, 10, 1, 0, 30, tzinfo=UTC)),
    ("2026-10-01", datetime(2026, 9, 30, 16, 0, tzinfo=UTC)),  # a date: local midnight
    ("2026/10/02 9:00", datetime(2026, 10, 2, 1, 0, tzinfo=UTC)),
    ("2026-05-01 00:17:55.828469+08:00", datetime(2026, 4, 30, 16, 17, 55, 828469, tzinfo=UTC)),
]


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def _frame(conn, times: list[str]) -> gpd.GeoDataFrame:
    xy = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT %s", (len(times),)).fetchall()
    records = [{"category_code": "garbage", "channel": "public", "reported_at": t, "description": f"t{i}"}
               for i, t in enumerate(times)]
    frame = gpd.GeoDataFrame(records, geometry=[shapely.Point(x, y) for x, y in xy], crs="EPSG:4326")
    frame["_where"] = [f"line {i + 2}" for i in range(len(times))]
    return frame


def test_every_spelling_of_a_time_means_the_same_instant(conn):
    assert C.write_cases(conn, _frame(conn, [text for text, _ in SPELLINGS])) == len(SPELLINGS)
    got = dict(conn.execute("SELECT description, reported_at FROM cases WHERE description LIKE 't%'").fetchall())
    assert [got[f"t{i}"] for i in range(len(SPELLINGS))] == [when for _, when in SPELLINGS]


def test_unreadable_times_are_named(conn):
    with pytest.raises(ImportRejected) as err:
        C.write_cases(conn, _frame(conn, ["2026-10-01 08:30", "yesterday-ish", "2026-13-45 25:00"]))
    text = str(err.value)
    assert "line 3: reported_at 'yesterday-ish' is not a date-time" in text
    assert "line 4: reported_at '2026-13-45 25:00' is not a date-time" in text and "line 2" not in text
