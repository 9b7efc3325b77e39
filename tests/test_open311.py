"""Open311 GeoReport v2 at /open311/v2 on the real app (Flask test client) and the demo district.

Every call in both formats, the spec's error bodies with nothing written, GET filters and
defaults, tokens, personal data kept out of GET answers, Chinese text round trips, and the
``onegrid apikey`` commands.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from app.cli import main as cli
from app.factory import create_app
from geodata.cases import create_api_key, create_case, revoke_api_key, transition

BASE = "/open311/v2"
ZH = "井盖缺失，行人有跌落危险 <请尽快> & 处理"


@pytest.fixture
def api(demo_db):
    """(test client, api key of channel 'public', a point and an address inside the district)."""
    with demo_db.connect() as conn:
        key = create_api_key(conn, "tests", channel="public")
        address = conn.execute(
            "SELECT id, full_text, ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT 1").fetchone()
        conn.commit()
    client = create_app().server.test_client()
    return client, key, {"id": address[0], "text": address[1], "lon": address[2], "lat": address[3]}


def _counts(db) -> tuple[int, int]:
    return db.count("cases"), db.count("case_event")


def _json(resp):
    assert resp.content_type.startswith("application/json"), resp.content_type
    assert "charset=utf-8" in resp.content_type
    return json.loads(resp.get_data(as_text=True))


def _xml(resp, root: str):
    assert resp.content_type.startswith("text/xml"), resp.content_type
    tree = ET.fromstring(resp.get_data())
    assert tree.tag == root
    return tree


def _post(client, key, fmt="json", **fields):
    data = {"api_key": key, **fields} if key is not None else fields
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def _manhole(point, **extra):
    return {"service_code": "manhole_cover", "lat": str(point["lat"]), "long": str(point["lon"]),
            "attribute[cover_state]": "missing", **extra}


# ---------------------------------------------------------------- discovery and services

def test_discovery_both_formats(api):
    client, _, _ = api
    body = _json(client.get(f"{BASE}/discovery.json"))
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert endpoint["type"] == "production"
    tree = _xml(client.get(f"{BASE}/discovery.xml"), "discovery")
    formats = [f.text for f in tree.findall("endpoints/endpoint/formats/format")]
    assert formats == ["application/json", "text/xml"]
    assert tree.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"


def test_services_both_formats(api, demo_db):
    client, _, _ = api
    services = _json(client.get(f"{BASE}/services.json"))
    with demo_db.connect() as conn:
        active = conn.execute("SELECT count(*) FROM case_category WHERE active").fetchone()[0]
    assert len(services) == active
    by_code = {s["service_code"]: s for s in services}
    assert by_code["manhole_cover"]["metadata"] is True
    assert by_code["road_damage"]["metadata"] is False
    assert by_code["road_damage"]["service_name"] == "道路破损"  # default language zh
    assert {s["type"] for s in services} == {"realtime"}
    assert set(by_code["road_damage"]) == {"service_code", "service_name", "description", "metadata", "type",
                                           "keywords", "group"}
    tree = _xml(client.get(f"{BASE}/services.xml"), "services")
    items = tree.findall("service")
    assert len(items) == active
    first = {e.tag: e.text for e in items[0]}
    assert first["service_code"] == services[0]["service_code"]
    assert {e.findtext("metadata") for e in items} == {"true", "false"}


def test_service_definition_both_formats(api):
    client, _, _ = api
    body = _json(client.get(f"{BASE}/services/manhole_cover.json"))
    assert body["service_code"] == "manhole_cover"
    attr = body["attributes"][0]
    assert attr["code"] == "cover_state" and attr["datatype"] == "singlevaluelist"
    assert attr["required"] is True and attr["variable"] is True and attr["order"] == 1
    assert [v["key"] for v in attr["values"]] == ["missing", "broken", "loose"]
    tree = _xml(client.get(f"{BASE}/services/elderly_care.xml"), "service_definition")
    assert tree.findtext("service_code") == "elderly_care"
    assert tree.findtext("attributes/attribute/datatype") == "multivaluelist"
    assert tree.findtext("attributes/attribute/required") == "false"
    assert [v.findtext("key") for v in tree.findall("attributes/attribute/values/value")] == ["meal", "medical", "visit"]
    plain = _json(client.get(f"{BASE}/services/road_damage.json"))
    assert plain == {"service_code": "road_damage", "attributes": []}


@pytest.mark.parametrize("path", ["services/no_such_service", "requests/19990101-000001",
                                  "tokens/00000000-0000-0000-0000-000000000000", "tokens/not-a-uuid",
                                  "nothing_here", "services/manhole_cover/extra"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_resources_are_404(api, path, fmt):
    client, _, _ = api
    resp = client.get(f"{BASE}/{path}.{fmt}")
    assert resp.status_code == 404
    if fmt == "json":
        body = _json(resp)
        assert body[0]["code"] == 404 and body[0]["description"]
    else:
        tree = _xml(resp, "errors")
        assert tree.findtext("error/code") == "404"
        assert tree.findtext("error/description")


@pytest.mark.parametrize("path", ["services.csv", "discovery.yaml", "requests.html", "services/garbage.geojson",
                                  "requests", "services"])
def test_unknown_format_or_no_extension_is_404(api, path):
    client, _, _ = api
    resp = client.get(f"{BASE}/{path}")
    assert resp.status_code == 404
    assert _json(resp)[0]["code"] == 404


# ---------------------------------------------------------------- POST requests

def test_post_json_routes_and_stores(api, demo_db):
    client, key, point = api
    resp = _post(client, key, **_manhole(point, description=ZH, email="a@example.org", first_name="三",
                                         last_name="张", phone="13800000000", account_id="acc-1",
                                         device_id="dev-9", media_url="https://example.org/p.jpg"))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    [answer] = _json(resp)
    assert answer["account_id"] == "acc-1"
    assert "公用事业服务中心" in answer["service_notice"]  # utilities, the category's department
    assert "4小时" in answer["service_notice"]
    with demo_db.connect() as conn:
        row = conn.execute("SELECT channel, description, reporter_email, reporter_name, media_url, attributes, "
                           "street_code, grid_code FROM cases WHERE code = %s",
                           (answer["service_request_id"],)).fetchone()
    assert row[0] == "public" and row[1] == ZH
    assert row[2] == "a@example.org" and row[3] == "三 张"
    assert row[4] == "https://example.org/p.jpg"
    assert row[5] == {"cover_state": "missing"}
    assert row[6] and row[7]


def test_post_xml_and_channel_from_key(api, demo_db):
    client, _, point = api
    with demo_db.connect() as conn:
        video_key = create_api_key(conn, "camera-ai", channel="video")
        conn.commit()
    resp = _post(client, video_key, "xml", service_code="road_damage", lat=point["lat"], long=point["lon"])
    assert resp.status_code == 201
    tree = _xml(resp, "service_requests")
    code = tree.findtext("request/service_request_id")
    assert code and tree.find("request/service_notice").text
    assert tree.find("request/account_id") is not None
    with demo_db.connect() as conn:
        assert conn.execute("SELECT channel FROM cases WHERE code = %s", (code,)).fetchone()[0] == "video"
        actor = conn.execute("SELECT e.actor FROM case_event e JOIN cases c ON c.id = e.case_id WHERE c.code = %s",
                             (code,)).fetchone()[0]
    assert actor == "open311:camera-ai"


def test_post_by_address_string_and_address_id(api, demo_db):
    client, key, point = api
    exact = _post(client, key, service_code="garbage", address_string=point["text"])
    assert exact.status_code == 201, exact.get_data(as_text=True)
    # Fuzzy: the address without its district prefix still finds the same standard address.
    fuzzy = _post(client, key, service_code="streetlight", address_string=point["text"][3:])
    assert fuzzy.status_code == 201, fuzzy.get_data(as_text=True)
    by_id = _post(client, key, service_code="illegal_ads", address_id=str(point["id"]))
    assert by_id.status_code == 201
    codes = [_json(r)[0]["service_request_id"] for r in (exact, fuzzy, by_id)]
    with demo_db.connect() as conn:
        rows = conn.execute("SELECT address_text, ST_X(geom), ST_Y(geom) FROM cases WHERE code = ANY(%s)",
                            (codes,)).fetchall()
    assert len(rows) == 3
    for text, lon, lat in rows:
        assert text == point["text"]
        assert lon == pytest.approx(point["lon"]) and lat == pytest.approx(point["lat"])
    one = _json(client.get(f"{BASE}/requests/{codes[2]}.json"))[0]
    assert one["address_id"] == point["id"] and one["address"] == point["text"]


def test_duplicate_is_flagged_in_notice(api):
    client, key, point = api
    first = _json(_post(client, key, **_manhole(point)))[0]["service_request_id"]
    second = _post(client, key, **_manhole(point, description="同一个井盖"))
    assert second.status_code == 201
    notice = _json(second)[0]["service_notice"]
    assert f"likely duplicate of {first}" in notice


def _outside(point) -> dict:
    return {"service_code": "road_damage", "lat": str(point["lat"]), "long": str(point["lon"] + 3)}


BAD_POSTS = [
    # (label, fields builder(point), status)
    ("no api_key", lambda p: {"service_code": "road_damage", "lat": p["lat"], "long": p["lon"]}, 403),
    ("wrong api_key", lambda p: {"api_key": "og_wrong", "service_code": "road_damage", "lat": p["lat"],
                                 "long": p["lon"]}, 403),
    ("no service_code", lambda p: {"lat": p["lat"], "long": p["lon"]}, 400),
    ("unknown service_code", lambda p: {"service_code": "flying_saucer", "lat": p["lat"], "long": p["lon"]}, 400),
    ("bad service_code text", lambda p: {"service_code": "井盖", "lat": p["lat"], "long": p["lon"]}, 400),
    ("no location", lambda p: {"service_code": "road_damage"}, 400),
    ("lat without long", lambda p: {"service_code": "road_damage", "lat": p["lat"]}, 400),
    ("lat not a number", lambda p: {"service_code": "road_damage", "lat": "north", "long": p["lon"]}, 400),
    ("lat nan", lambda p: {"service_code": "road_damage", "lat": "nan", "long": p["lon"]}, 400),
    ("lat out of range", lambda p: {"service_code": "road_damage", "lat": "95", "long": p["lon"]}, 400),
    ("outside the district", _outside, 400),
    ("description too long", lambda p: {"service_code": "road_damage", "lat": p["lat"], "long": p["lon"],
                                        "description": "长" * 4001}, 400),
    ("missing required attribute", lambda p: {"service_code": "manhole_cover", "lat": p["lat"],
                                              "long": p["lon"]}, 400),
    ("bad list value", lambda p: _manhole(p, **{"attribute[cover_state]": "stolen"}), 400),
    ("bad number", lambda p: {"service_code": "water_logging", "lat": p["lat"], "long": p["lon"],
                              "attribute[depth_cm]": "deep"}, 400),
    ("unknown attribute", lambda p: _manhole(p, **{"attribute[colour]": "red"}), 400),
    ("unknown address_string", lambda p: {"service_code": "garbage", "address_string": "火星基地 1 号"}, 400),
    ("unknown address_id", lambda p: {"service_code": "garbage", "address_id": "999999999"}, 400),
    ("bad address_id", lambda p: {"service_code": "garbage", "address_id": "12a"}, 400),
    ("bad media_url", lambda p: {"service_code": "garbage", "lat": p["lat"], "long": p["lon"],
                                 "media_url": "javascript:alert(1)"}, 400),
    ("bad email", lambda p: {"service_code": "garbage", "lat": p["lat"], "long": p["lon"], "email": "nobody"}, 400),
    ("control characters", lambda p: {"service_code": "garbage", "lat": p["lat"], "long": p["lon"],
                                      "description": "bad\x00text"}, 400),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("label,build,status", BAD_POSTS, ids=[b[0] for b in BAD_POSTS])
def test_bad_posts_answer_spec_errors_and_write_nothing(api, demo_db, fmt, label, build, status):
    client, key, point = api
    before = _counts(demo_db)
    fields = {k: str(v) for k, v in build(point).items()}
    if "api_key" not in fields and status != 403:
        fields["api_key"] = key
    resp = client.post(f"{BASE}/requests.{fmt}", data=fields)
    assert resp.status_code == status, resp.get_data(as_text=True)
    if fmt == "json":
        [error] = _json(resp)
        assert error["code"] == status
        description = error["description"]
    else:
        tree = _xml(resp, "errors")
        assert tree.findtext("error/code") == str(status)
        description = tree.findtext("error/description")
    assert len(description) > 10
    assert _counts(demo_db) == before


def test_revoked_key_is_403(api, demo_db):
    client, key, point = api
    with demo_db.connect() as conn:
        revoke_api_key(conn, "tests")
        conn.commit()
    before = _counts(demo_db)
    resp = _post(client, key, service_code="road_damage", lat=point["lat"], long=point["lon"])
    assert resp.status_code == 403
    assert "api_key" in _json(resp)[0]["description"]
    assert _counts(demo_db) == before


def test_description_of_4000_characters_is_accepted(api):
    client, key, point = api
    resp = _post(client, key, service_code="road_damage", lat=point["lat"], long=point["lon"],
                 description="长" * 4000)
    assert resp.status_code == 201


def test_multivalue_attribute(api, demo_db):
    client, key, point = api
    resp = client.post(f"{BASE}/requests.json", data={
        "api_key": key, "service_code": "elderly_care", "lat": point["lat"], "long": point["lon"],
        "attribute[need][]": ["meal", "visit"]})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    code = _json(resp)[0]["service_request_id"]
    with demo_db.connect() as conn:
        attributes = conn.execute("SELECT attributes FROM cases WHERE code = %s", (code,)).fetchone()[0]
    assert attributes == {"need": ["meal", "visit"]}


# ---------------------------------------------------------------- tokens and GET requests

def test_token_lookup_both_formats(api, demo_db):
    client, key, point = api
    code = _json(_post(client, key, service_code="garbage", lat=point["lat"], long=point["lon"]))[0][
        "service_request_id"]
    with demo_db.connect() as conn:
        token = str(conn.execute("SELECT token FROM cases WHERE code = %s", (code,)).fetchone()[0])
    assert _json(client.get(f"{BASE}/tokens/{token}.json")) == [{"service_request_id": code, "token": token}]
    tree = _xml(client.get(f"{BASE}/tokens/{token}.xml"), "service_requests")
    assert tree.findtext("request/service_request_id") == code
    assert tree.findtext("request/token") == token


REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


def test_get_one_request_without_personal_data_chinese_round_trip(api):
    client, key, point = api
    secrets = {"email": "secret.person@example.org", "phone": "13912345678", "first_name": "秘密",
               "last_name": "人物", "device_id": "device-secret-42"}
    posted = _post(client, key, **_manhole(point, description=ZH, account_id="acct-secret-7", **secrets))
    code = _json(posted)[0]["service_request_id"]
    resp = client.get(f"{BASE}/requests/{code}.json")
    [one] = _json(resp)
    assert set(one) == REQUEST_FIELDS
    assert one["description"] == ZH
    assert one["status"] == "open" and one["service_code"] == "manhole_cover"
    assert one["agency_responsible"] == "公用事业服务中心"
    assert one["lat"] == pytest.approx(point["lat"]) and one["long"] == pytest.approx(point["lon"])
    assert datetime.fromisoformat(one["requested_datetime"]).utcoffset() == timedelta(hours=8)
    xml_resp = client.get(f"{BASE}/requests/{code}.xml")
    tree = _xml(xml_resp, "service_requests")
    assert tree.findtext("request/description") == ZH
    assert {e.tag for e in tree.find("request")} == REQUEST_FIELDS
    for text in (resp.get_data(as_text=True), xml_resp.get_data(as_text=True),
                 client.get(f"{BASE}/requests.json").get_data(as_text=True)):
        assert ZH.split("，")[0] in text or "井盖缺失" in text
        for value in (*secrets.values(), "acct-secret-7"):
            assert value not in text


def _close(demo_db, code: str) -> None:
    with demo_db.connect() as conn:
        case_id = conn.execute("SELECT id FROM cases WHERE code = %s", (code,)).fetchone()[0]
        for action in ("register", "dispatch", "start", "feedback"):
            transition(conn, case_id, action, actor="tester")
        transition(conn, case_id, "close", actor="tester", note="已修复 fixed")
        conn.commit()


def test_get_requests_filters_and_defaults(api, demo_db):
    client, key, point = api
    garbage = _json(_post(client, key, service_code="garbage", lat=point["lat"], long=point["lon"]))[0][
        "service_request_id"]
    road = _json(_post(client, key, service_code="road_damage", lat=point["lat"], long=point["lon"]))[0][
        "service_request_id"]
    _close(demo_db, road)
    with demo_db.connect() as conn:  # a report from 100 days ago: outside the default window
        old = create_case(conn, category_code="garbage", channel="public", lon=point["lon"], lat=point["lat"],
                          actor="tester", reported_at=datetime.now().astimezone() - timedelta(days=100)).code
        conn.commit()

    def codes(query=""):
        resp = client.get(f"{BASE}/requests.json{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [r["service_request_id"] for r in _json(resp)]

    default = codes()
    assert garbage in default and road in default and old not in default
    only_garbage = _json(client.get(f"{BASE}/requests.json?service_code=garbage"))
    assert garbage in [r["service_request_id"] for r in only_garbage]
    assert {r["service_code"] for r in only_garbage} == {"garbage"}
    assert garbage in codes("?service_code=garbage,road_damage") and road in codes("?service_code=garbage,road_damage")
    assert road in codes("?status=closed") and garbage not in codes("?status=closed")
    assert garbage in codes("?status=open") and road not in codes("?status=open")
    assert {garbage, road} <= set(codes("?status=open,closed"))
    # service_request_id overrides the other filters, and finds old requests too.
    assert sorted(codes(f"?service_request_id={old},{road}&service_code=garbage&status=open")) == sorted([old, road])
    since = (datetime.now().astimezone() - timedelta(days=101)).isoformat()
    until = (datetime.now().astimezone() - timedelta(days=99)).isoformat()
    windowed = _json(client.get(f"{BASE}/requests.json?start_date={quote(since)}&end_date={quote(until)}"))
    assert old in [r["service_request_id"] for r in windowed]
    assert garbage not in [r["service_request_id"] for r in windowed]
    for r in windowed:  # other demo history may fall in the window too, but nothing outside it
        assert datetime.fromisoformat(since) - timedelta(seconds=1) <= datetime.fromisoformat(
            r["requested_datetime"]) <= datetime.fromisoformat(until)
    assert old in codes(f"?start_date={quote(since)}")
    assert old not in codes(f"?end_date={quote(datetime.now().astimezone().isoformat())}")
    closed = _json(client.get(f"{BASE}/requests/{road}.json"))[0]
    assert closed["status"] == "closed" and closed["status_notes"] == "已修复 fixed"
    assert closed["expected_datetime"] and datetime.fromisoformat(closed["expected_datetime"]).tzinfo
    tree = _xml(client.get(f"{BASE}/requests.xml?service_code=road_damage"), "service_requests")
    assert road in [r.findtext("service_request_id") for r in tree.findall("request")]


def test_get_requests_cap_newest_first(api, demo_db):
    client, _, point = api
    with demo_db.connect() as conn:
        now = datetime.now().astimezone()
        for i in range(1005):
            create_case(conn, category_code="illegal_ads", channel="public", lon=point["lon"],
                        lat=point["lat"], actor="tester", reported_at=now - timedelta(minutes=i))
        conn.commit()
    body = _json(client.get(f"{BASE}/requests.json?service_code=illegal_ads"))
    assert len(body) == 1000
    stamps = [datetime.fromisoformat(r["requested_datetime"]) for r in body]
    assert stamps == sorted(stamps, reverse=True)


BAD_QUERIES = ["start_date=yesterday", "end_date=2026-13-01T00:00:00Z", "start_date=2026-11-01T00:00:00",
               "status=pending", "status=open,pending", "service_code=flying_saucer",
               "start_date=2026-11-20T00:00:00Z&end_date=2026-11-01T00:00:00Z",
               "start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z"]


@pytest.mark.parametrize("query", BAD_QUERIES)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_get_filters_are_400(api, query, fmt):
    client, _, _ = api
    resp = client.get(f"{BASE}/requests.{fmt}?{query}")
    assert resp.status_code == 400
    if fmt == "json":
        assert _json(resp)[0]["code"] == 400
    else:
        assert _xml(resp, "errors").findtext("error/code") == "400"


def test_other_methods_get_spec_errors(api):
    client, _, _ = api
    resp = client.delete(f"{BASE}/requests.json")
    assert resp.status_code == 404 and _json(resp)[0]["code"] == 404


# ---------------------------------------------------------------- CLI

def test_apikey_cli(demo_db, capsys):
    assert cli(["apikey", "create", "hotline", "--channel", "supervisor"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("og_") and len(key) > 20
    with demo_db.connect() as conn:
        stored = conn.execute("SELECT key_sha256, channel FROM api_key WHERE name = 'hotline'").fetchone()
    assert stored[1] == "supervisor" and key not in stored[0]
    assert cli(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert "hotline" in listing and "supervisor" in listing and "active" in listing and key not in listing
    assert cli(["apikey", "create", "hotline"]) == 2  # name taken
    assert "already exists" in capsys.readouterr().err
    assert cli(["apikey", "revoke", "hotline"]) == 0
    capsys.readouterr()
    assert cli(["apikey", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert cli(["apikey", "revoke", "hotline"]) == 2
    client = create_app().server.test_client()
    resp = client.post(f"{BASE}/requests.json", data={"api_key": key, "service_code": "garbage", "lat": "0",
                                                      "long": "0"})
    assert resp.status_code == 403
