-- Cases (案卷): categories with a responsible department and time limit, dispatch rules,
-- the case table and its append-only event log, Open311 API keys.
-- Workflow (CJ/T 214, GB/T 30428): 信息收集 report → 案卷建立 register → 任务派遣 dispatch →
-- 任务处理 handle → 处理反馈 feedback → 核实结案 verify & close → 综合评价 evaluate.
-- The table is `cases` (CASE is an SQL keyword).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE department (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name_zh text NOT NULL CHECK (btrim(name_zh) <> ''),
    name_en text NOT NULL CHECK (btrim(name_en) <> ''),
    phone   text
);

CREATE TABLE case_category (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name_zh          text NOT NULL CHECK (btrim(name_zh) <> ''),
    name_en          text NOT NULL CHECK (btrim(name_en) <> ''),
    class            text NOT NULL CHECK (class IN ('component', 'event')),  -- 部件 / 事件
    group_zh         text NOT NULL,
    group_en         text NOT NULL,
    department_code  text NOT NULL REFERENCES department (code) ON UPDATE CASCADE,
    time_limit_hours integer NOT NULL CHECK (time_limit_hours BETWEEN 1 AND 24 * 90),
    description      text NOT NULL DEFAULT '',
    keywords         text NOT NULL DEFAULT '',
    active           boolean NOT NULL DEFAULT true,
    sort             smallint NOT NULL DEFAULT 100
);

-- Extra questions a category asks (Open311 service definition attributes).
CREATE TABLE case_category_attribute (
    category_code text NOT NULL REFERENCES case_category (code) ON UPDATE CASCADE ON DELETE CASCADE,
    code          text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    datatype      text NOT NULL CHECK (datatype IN ('string', 'number', 'datetime', 'text',
                                                    'singlevaluelist', 'multivaluelist')),
    required      boolean NOT NULL DEFAULT false,
    description   text NOT NULL,
    datatype_description text NOT NULL DEFAULT '',
    sort          smallint NOT NULL DEFAULT 1,
    -- [{"key": "...", "name": "..."}] for list datatypes
    "values"      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof("values") = 'array'),
    PRIMARY KEY (category_code, code)
);

-- category × street → department; a rule with street_code NULL applies district-wide.
-- The most specific rule wins; without any rule the category's own department acts.
CREATE TABLE dispatch_rule (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_code   text NOT NULL REFERENCES case_category (code) ON UPDATE CASCADE ON DELETE CASCADE,
    street_code     text REFERENCES admin_area (code) ON UPDATE CASCADE ON DELETE CASCADE,
    department_code text NOT NULL REFERENCES department (code) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX dispatch_rule_one ON dispatch_rule (category_code, coalesce(street_code, '*'));

CREATE TABLE cases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE,                 -- human case number, e.g. 20261122-000123
    token           uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),  -- Open311 token
    category_code   text NOT NULL REFERENCES case_category (code) ON UPDATE CASCADE,
    channel         text NOT NULL CHECK (channel IN ('supervisor', 'video', 'iot', 'public', 'assigned')),
    state           text NOT NULL DEFAULT 'reported' CHECK (state IN (
                        'reported', 'registered', 'dispatched', 'handling', 'fed_back', 'returned',
                        'closed', 'evaluated', 'rejected', 'duplicate')),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    address_text    text,
    media_url       text,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_ref      text,                                 -- sensor id, camera id, hotline ticket …
    -- Personal data of the reporter: never on maps, exports or Open311 GET answers.
    reporter_name   text,
    reporter_phone  text,
    reporter_email  text,
    account_id      text,
    device_id       text,
    grid_code       text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    community_code  text REFERENCES admin_area (code) ON UPDATE CASCADE,
    street_code     text NOT NULL REFERENCES admin_area (code) ON UPDATE CASCADE,
    department_code text REFERENCES department (code) ON UPDATE CASCADE,
    duplicate_of    bigint REFERENCES cases (id),
    reported_at     timestamptz NOT NULL DEFAULT now(),
    registered_at   timestamptz,
    dispatched_at   timestamptz,
    deadline_at     timestamptz,                           -- dispatched_at + category time limit
    fed_back_at     timestamptz,
    closed_at       timestamptz,
    evaluated_at    timestamptz,
    satisfaction    smallint CHECK (satisfaction BETWEEN 1 AND 5),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,             -- optimistic lock: no lost updates
    geom            geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CHECK (deadline_at IS NULL OR dispatched_at IS NOT NULL)
);
CREATE INDEX cases_geom_idx ON cases USING gist (geom);
CREATE INDEX cases_state_idx ON cases (state);
CREATE INDEX cases_reported_idx ON cases (reported_at);
CREATE INDEX cases_street_reported_idx ON cases (street_code, reported_at);
CREATE INDEX cases_category_idx ON cases (category_code);
CREATE INDEX cases_deadline_idx ON cases (deadline_at);
CREATE INDEX cases_closed_idx ON cases (closed_at);
CREATE INDEX cases_grid_idx ON cases (grid_code);
CREATE INDEX cases_updated_idx ON cases (updated_at);
-- Open cases of a category near a point (duplicate check: 50 m, 24 h).
CREATE INDEX cases_open_geom_idx ON cases USING gist (geom)
    WHERE state NOT IN ('closed', 'evaluated', 'rejected', 'duplicate');

-- One row per state change, never updated or deleted. id orders events for live deltas.
CREATE TABLE case_event (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    street_code     text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    action          text NOT NULL,
    from_state      text,
    to_state        text NOT NULL,
    actor           text NOT NULL CHECK (btrim(actor) <> ''),
    department_code text,
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 4000)
);
CREATE INDEX case_event_case_idx ON case_event (case_id, id);
CREATE INDEX case_event_at_idx ON case_event (at);

CREATE FUNCTION og_case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON case_event
    FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION og_case_event_append_only();

-- Case numbers: date + per-day sequence (the sequence itself never resets; numbers stay unique).
CREATE SEQUENCE case_code_seq;

-- Open311 API keys: only a SHA-256 digest is stored.
CREATE TABLE api_key (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    key_sha256 text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    channel    text NOT NULL DEFAULT 'public' CHECK (channel IN ('supervisor', 'video', 'iot', 'public', 'assigned')),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Departments and categories a district starts with (editable data, not code).
INSERT INTO department (code, name_zh, name_en) VALUES
    ('city_management', '城管执法中队', 'City management enforcement'),
    ('greening_sanitation', '绿化市容所', 'Greening and sanitation'),
    ('roads', '道路养护所', 'Road maintenance'),
    ('water', '水务所', 'Water authority'),
    ('traffic_police', '交警中队', 'Traffic police'),
    ('police', '派出所', 'Police station'),
    ('housing', '房管办', 'Housing office'),
    ('civil_affairs', '民政科', 'Civil affairs'),
    ('emergency', '应急管理所', 'Emergency management'),
    ('market_regulation', '市场监管所', 'Market regulation'),
    ('community_office', '社区居委会', 'Community committee'),
    ('utilities', '公用事业服务中心', 'Public utilities');

INSERT INTO case_category (code, name_zh, name_en, class, group_zh, group_en, department_code,
                           time_limit_hours, keywords, sort) VALUES
    ('manhole_cover',   '井盖缺失破损', 'Missing or broken manhole cover', 'component', '公用设施', 'Public utilities', 'utilities', 4, '井盖,窨井', 10),
    ('road_damage',     '道路破损',     'Road damage',                     'component', '道路交通', 'Roads and traffic', 'roads', 72, '坑洼,路面', 20),
    ('streetlight',     '路灯故障',     'Street light out',                'component', '公用设施', 'Public utilities', 'utilities', 48, '路灯', 30),
    ('greenery_damage', '绿化损坏',     'Damaged greenery',                'component', '园林绿化', 'Greenery', 'greening_sanitation', 120, '树木,绿地', 40),
    ('garbage',         '垃圾暴露',     'Exposed garbage',                 'event', '市容环境', 'City appearance', 'greening_sanitation', 8, '垃圾,堆物', 50),
    ('illegal_parking', '违法停车',     'Illegal parking',                 'event', '街面秩序', 'Street order', 'traffic_police', 2, '停车,占道', 60),
    ('street_vending',  '无证设摊',     'Unlicensed street vending',       'event', '街面秩序', 'Street order', 'city_management', 4, '摊贩,占道经营', 70),
    ('illegal_ads',     '违规广告',     'Illegal advertising',             'event', '宣传广告', 'Advertising', 'city_management', 48, '小广告,招牌', 80),
    ('construction_noise', '施工噪声',  'Construction noise',              'event', '施工管理', 'Construction', 'city_management', 24, '噪音,夜间施工', 90),
    ('noise',           '生活噪声扰民', 'Neighbourhood noise',             'event', '社会治理', 'Community governance', 'police', 12, '噪音,扰民', 100),
    ('water_logging',   '道路积水',     'Water logging',                   'event', '突发事件', 'Emergencies', 'water', 6, '积水,内涝', 110),
    ('safety_hazard',   '安全隐患',     'Safety hazard',                   'event', '突发事件', 'Emergencies', 'emergency', 24, '隐患,消防通道', 120),
    ('dispute',         '邻里纠纷',     'Neighbour dispute',               'event', '社会治理', 'Community governance', 'community_office', 72, '纠纷,矛盾', 130),
    ('elderly_care',    '老人照护求助', 'Elderly care request',            'event', '民生服务', 'Public services', 'civil_affairs', 24, '独居老人,助老', 140),
    ('illegal_building', '违法搭建',    'Illegal construction',            'event', '房屋土地', 'Housing and land', 'housing', 240, '违建,搭建', 150),
    ('market_order',    '市场秩序',     'Market disorder',                 'event', '市场监管', 'Market regulation', 'market_regulation', 48, '菜场,经营', 160);

INSERT INTO case_category_attribute (category_code, code, datatype, required, description, sort, "values") VALUES
    ('manhole_cover', 'cover_state', 'singlevaluelist', true, '井盖状态 / Cover state', 1,
        '[{"key": "missing", "name": "缺失 Missing"}, {"key": "broken", "name": "破损 Broken"}, {"key": "loose", "name": "松动 Loose"}]'),
    ('water_logging', 'depth_cm', 'number', true, '积水深度（厘米）/ Water depth (cm)', 1, '[]'),
    ('illegal_parking', 'plate', 'string', false, '车牌号 / Licence plate', 1, '[]'),
    ('elderly_care', 'need', 'multivaluelist', false, '需要的帮助 / Help needed', 1,
        '[{"key": "meal", "name": "助餐 Meals"}, {"key": "medical", "name": "就医 Medical"}, {"key": "visit", "name": "探访 Visit"}]');
