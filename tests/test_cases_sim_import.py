"""`onegrid import cases` (good and bad files) and the live simulator (real PostGIS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.cli import main
from geodata import cases as C
from geodata.cases.simulate import CaseSimulator

BUSY = datetime(2026, 11, 18, 10, 0, tzinfo=timezone(timedelta(hours=8)))  # a Wednesday morning


def _point(demo_db):
    with demo_db.connect() as conn:
        return conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT 1").fetchone()


def test_import_cases_csv_with_chinese_columns(demo_db, tmp_path, capsys):
    lon, lat = _point(demo_db)
    path = tmp_path / "history.csv"
    path.write_text(
        "案件类别,来源,上报时间,经度,纬度,问题描述,派遣时间,结案时间\n"
        f'垃圾暴露,热线,2026-11-01 08:00,{lon},{lat},"路边垃圾, 未清运",2026-11-01 09:00,2026-11-01 15:00\n'
        f"road_damage,supervisor,2026-11-02T10:00:00+08:00,{lon},{lat},坑洼,,\n", encoding="utf-8")
    assert main(["import", "cases", str(path)]) == 0
    assert "wrote 2 row(s) to cases" in capsys.readouterr().out
    with demo_db.connect() as conn:
        got = {c.category_code: c for c in C.fetch_cases(conn)}
        assert got["garbage"].state == "closed" and got["garbage"].channel == "public"
        assert got["garbage"].deadline_at == got["garbage"].dispatched_at + timedelta(hours=8)
        assert got["garbage"].description == "路边垃圾, 未清运"
        assert got["road_damage"].state == "reported"
        assert [e["action"] for e in C.fetch_case_events(conn, got["garbage"].id)] == ["report", "dispatch", "close"]


def test_import_cases_bad_file_names_lines_and_writes_nothing(demo_db, tmp_path, capsys):
    lon, lat = _point(demo_db)
    path = tmp_path / "bad.csv"
    path.write_text(
        "category_code,channel,reported_at,lon,lat\n"
        f"garbage,supervisor,2026-11-01 08:00,{lon},{lat}\n"
        f"garbage,pigeon,2026-11-01 08:00,{lon},{lat}\n"
        f"garbage,video,2026-11-01 08:00,100.0,30.0\n", encoding="utf-8")
    assert main(["import", "cases", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3: unknown channel 'pigeon'" in err and "nothing written" in err
    assert demo_db.count("cases") == 0
    path.write_text("category_code,channel,reported_at,lon,lat\n"
                    "garbage,video,2026-11-01 08:00,100.0,30.0\n", encoding="utf-8")
    assert main(["import", "cases", str(path)]) == 2
    assert "line 2: point" in capsys.readouterr().err
    assert demo_db.count("cases") == 0 and demo_db.count("case_event") == 0


def test_simulator_reports_and_moves_cases(demo_db):
    with demo_db.connect() as conn:
        sim = CaseSimulator(conn, rate=4, seed=7)
        reports = [sim.tick(now=BUSY) for _ in range(4)]
    created = sum(r.created for r in reports)
    moved = sum(r.moved for r in reports)
    assert created >= 5 and moved >= 1
    assert "tick 4:" in reports[-1].line()
    with demo_db.connect() as conn:  # committed, seen from another connection
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == created
        actions = dict(conn.execute("SELECT action, count(*) FROM case_event GROUP BY 1").fetchall())
        channels = {c.channel for c in C.fetch_cases(conn)}
    assert actions["report"] == created and sum(actions.values()) == created + moved
    assert len(channels) >= 2


def test_demo_history_is_plausible(demo_db):
    from geodata.cases.history import seed_history

    with demo_db.connect() as conn:
        written = seed_history(conn, days=90, scale="small", seed=42)
        conn.commit()
        states = dict(conn.execute("SELECT state, count(*) FROM cases GROUP BY 1").fetchall())
        span = conn.execute("SELECT min(reported_at), max(reported_at) FROM cases").fetchone()
        kpi = C.fetch_kpis(conn)
        rules = conn.execute("SELECT count(*) FROM dispatch_rule WHERE street_code IS NOT NULL").fetchone()[0]
        bad_chain = conn.execute(
            "SELECT count(*) FROM (SELECT case_id, to_state, lead(from_state) OVER w AS nxt FROM case_event "
            "WINDOW w AS (PARTITION BY case_id ORDER BY id)) e WHERE nxt IS NOT NULL AND nxt <> to_state").fetchone()[0]
    assert 1000 <= written <= 2000
    assert states.get("closed", 0) + states.get("evaluated", 0) > 0.7 * written
    assert 0 < kpi["on_time_rate"] < kpi["closure_rate"] <= 1 and kpi["overdue"] > 0
    assert (span[1] - span[0]).days >= 85
    assert rules >= 3 and bad_chain == 0
