"""Demo sensors, the reading history and the live reading simulator (real PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.cli import main
from geodata import warnings as gw
from geodata.warnings.demo import COUNTS, seed_reading_history, seed_sensors
from geodata.warnings.simulate import PROFILES, ReadingSimulator, incident_value

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_incident_ramps_to_its_peak_and_back():
    values = [incident_value("gas", s, 6, 30.0) for s in range(7)]
    assert values[3] == 30.0 and values[0] == values[6] == PROFILES["gas"][0]
    assert values[:4] == sorted(values[:4])


def test_demo_sensors_and_history_raise_and_handle_warnings(demo_db):
    with demo_db.connect() as conn:
        with conn.transaction():
            assert seed_sensors(conn, "small", 42) == sum(COUNTS["small"].values())
            assert seed_sensors(conn, "small", 42) == 0  # idempotent
            written = seed_reading_history(conn, hours=24, seed=7, now=NOW)
        n = sum(COUNTS["small"].values())
        assert written == 24 * n
        kinds = dict(conn.execute("SELECT kind_code, count(*) FROM sensor GROUP BY 1").fetchall())
        assert kinds == COUNTS["small"]
        states = dict(conn.execute("SELECT state, count(*) FROM warning GROUP BY 1").fetchall())
        assert sum(states.values()) >= 5, states
        assert states.get("converted", 0) + states.get("dismissed", 0) >= 1, states
        # Converted warnings point at iot cases that point back.
        bad = conn.execute("""SELECT count(*) FROM warning w JOIN cases c ON c.id = w.case_id
                               WHERE w.state = 'converted' AND (c.warning_id <> w.id OR c.channel <> 'iot')""").fetchone()[0]
        assert bad == 0
        assert conn.execute("SELECT count(*) FROM sensor WHERE last_at IS NULL").fetchone()[0] == 0


def test_live_simulator_and_cli(demo_db, capsys):
    with demo_db.connect() as conn:
        with conn.transaction():
            seed_sensors(conn, "small", 42)
        sim = ReadingSimulator(conn, seed=3, period=2, incidents_per_hour=3600 * 5)
        reports = [sim.tick(NOW.replace(second=s)) for s in range(6)]
        assert sum(r.readings for r in reports) > 0 and sum(r.opened for r in reports) > 0
        assert not conn.info.transaction_status  # everything committed (IDLE)
        assert gw.fetch_warning_counts(conn) != dict.fromkeys(gw.LEVELS, 0)
    assert main(["simulate", "readings", "--duration", "1.5", "--period", "1", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "readings from" in out and "warnings opened" in out
    assert main(["simulate", "cases", "--duration", "1", "--rate", "2", "--seed", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "cases (" in out and "readings from" in out
