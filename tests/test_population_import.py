"""``onegrid import residents file.csv``: validated, all or nothing, every bad row named."""

from __future__ import annotations

import pytest

from app.cli import main
from geodata.errors import ImportRejected
from geodata.io.importer import import_file


def _state(db):
    with db.connect() as conn:
        return conn.execute("""SELECT (SELECT count(*) FROM resident), (SELECT count(*) FROM household),
                                      (SELECT count(*) FROM resident_tag),
                                      (SELECT md5(string_agg(res || tag || cell || coalesce(n, -1), ',' ORDER BY res, tag, cell))
                                         FROM population_cell)""").fetchone()


def _codes(db, n=3):
    with db.connect() as conn:
        return [r[0] for r in conn.execute("SELECT code FROM address ORDER BY id LIMIT %s", (n,))]


def test_good_file_is_imported_with_households_tags_and_hashed_refs(demo_db, tmp_path):
    a, b, _ = _codes(demo_db)
    path = tmp_path / "居民.csv"
    path.write_text("地址编码,出生年份,性别,人群类别,户编号,身份证号\n"
                    f"{a},1940,女,独居老人;残疾人,HH-1,310000194001010000\n"
                    f"{b},2015,男,minor,HH-2,310000201501010011\n"
                    f"{b},1985,F,,HH-2,\n", encoding="utf-8")
    before = _state(demo_db)
    report = import_file("residents", path)
    assert report.written == 3 and report.table == "resident"
    after = _state(demo_db)
    assert after[0] == before[0] + 3 and after[1] == before[1] + 2 and after[2] == before[2] + 3
    with demo_db.connect() as conn:
        size = conn.execute("SELECT size FROM household WHERE code = 'HH-2'").fetchone()[0]
        hashes = [r[0] for r in conn.execute("SELECT ref_hash FROM resident WHERE ref_hash IS NOT NULL")]
        dump = str(conn.execute("SELECT * FROM resident ORDER BY id DESC LIMIT 3").fetchall())
    assert size == 2 and len(hashes) == 2 and all(len(h) == 64 for h in hashes)
    assert "310000194001010000" not in dump  # the reference itself is never stored
    with pytest.raises(ImportRejected) as err:  # the same person again
        import_file("residents", path)
    assert "line 2" in str(err.value.problems) and "imported before" in str(err.value.problems)
    assert _state(demo_db) == after


def test_bad_rows_are_all_named_and_nothing_changes(demo_db, tmp_path, capsys):
    a, b, _ = _codes(demo_db)
    path = tmp_path / "bad.csv"
    path.write_text("address_code,birth_year,sex,tags,household_code\n"
                    f"{a},1970,M,floating,H1\n"
                    "NO-SUCH-ADDRESS,1970,M,,\n"
                    f"{a},1790,M,,\n"
                    f"{a},abc,X,,\n"
                    f"{a},1980,F,vampire,\n"
                    f"{b},1980,F,,H1\n"
                    f",1980,F,,\n", encoding="utf-8")
    before = _state(demo_db)
    assert main(["import", "residents", str(path)]) == 2
    err = capsys.readouterr().err
    for text in ("line 3", "NO-SUCH-ADDRESS", "line 4", "birth_year", "line 5", "sex must be",
                 "line 6", "vampire", "line 7", "household 'H1'", "line 8", "address_code is required"):
        assert text in err, text
    assert "line 2:" not in err and "line 2 " not in err.replace("on line 2,", "")
    assert _state(demo_db) == before


def test_residents_need_a_plain_csv(demo_db, tmp_path):
    path = tmp_path / "r.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    assert main(["import", "residents", str(path)]) == 2
    missing = tmp_path / "m.csv"
    missing.write_text("sex,tags\nM,\n")
    assert main(["import", "residents", str(missing)]) == 2


def test_a_missing_residents_file_is_a_one_line_error(demo_db, tmp_path, capsys):
    before = demo_db.count("resident")
    assert main(["import", "residents", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert demo_db.count("resident") == before
