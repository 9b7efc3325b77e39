"""SQL of the planning package (values always as parameters; temp table names are fixed).

Distances are metres. Geometries are stored in EPSG:4326 (lon, lat); the walking graph keeps a
copy of each edge in its UTM zone (``geom_m``) where snapping and positions are measured.
"""

LAYER_SIGNATURE = """
SELECT (SELECT count(*)::int FROM road) AS road_count, (SELECT max(id) FROM road) AS road_max_id,
       (SELECT count(*)::int FROM address) AS address_count, (SELECT max(id) FROM address) AS address_max_id
"""

NETWORK_META = "SELECT * FROM walk_network"

CLEAR_NETWORK = "TRUNCATE walk_access, walk_edge, walk_node, walk_network"

ROAD_CENTRE = "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c FROM road) s"

# Snap to 1 cm first so that ends meant to meet do meet, then node every crossing.
BUILD_PIECES = """
CREATE TEMP TABLE og_pieces ON COMMIT DROP AS
SELECT row_number() OVER () AS id, g AS geom_m, ST_SnapToGrid(ST_StartPoint(g), 0.01) AS a,
       ST_SnapToGrid(ST_EndPoint(g), 0.01) AS b
  FROM (SELECT (ST_Dump(ST_Node(ST_Collect(ST_SnapToGrid(ST_Transform(geom, %(srid)s::int), 0.01))))).geom AS g
          FROM road) s
 WHERE ST_Length(g) > 0
"""

BUILD_NODES = """
CREATE TEMP TABLE og_nodes ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY x, y) AS id, x, y
  FROM (SELECT DISTINCT ST_X(p) AS x, ST_Y(p) AS y
          FROM (SELECT a AS p FROM og_pieces UNION ALL SELECT b FROM og_pieces) e) d
"""

INSERT_NODES = """
INSERT INTO walk_node (id, geom)
SELECT id, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), %(srid)s::int), 4326) FROM og_nodes
"""

# Ends were snapped to 1 cm, so equal coordinates are the same vertex (a hash join).
BUILD_EDGES = """
INSERT INTO walk_edge (id, source, target, length_m, geom, geom_m)
SELECT o.id, na.id, nb.id, ST_Length(o.geom_m), ST_Transform(o.geom_m, 4326), o.geom_m
  FROM og_pieces o
  JOIN og_nodes na ON na.x = ST_X(o.a) AND na.y = ST_Y(o.a)
  JOIN og_nodes nb ON nb.x = ST_X(o.b) AND nb.y = ST_Y(o.b)
"""

FETCH_EDGES_M = "SELECT id, ST_AsBinary(geom_m), source, target, length_m FROM walk_edge ORDER BY id"

FETCH_ADDRESS_POINTS = "SELECT id, ST_X(geom), ST_Y(geom) FROM address ORDER BY id"

COPY_ACCESS = "COPY walk_access (address_id, edge_id, fraction, access_m) FROM STDIN"

RECORD_NETWORK = """
INSERT INTO walk_network (srid, road_count, road_max_id, address_count, address_max_id, nodes, edges, length_m)
SELECT %(srid)s, (SELECT count(*)::int FROM road), (SELECT max(id) FROM road),
       (SELECT count(*)::int FROM address), (SELECT max(id) FROM address),
       (SELECT count(*) FROM walk_node), (SELECT count(*) FROM walk_edge),
       (SELECT coalesce(sum(length_m), 0) FROM walk_edge)
"""

# ---- distances -------------------------------------------------------------------------
# og_src(i, edge_id, fraction, access_m): the sources (facilities or candidate sites);
# og_tgt(j, edge_id, fraction, access_m): the demand points. Each source enters the graph as
# its own vertex joined to both ends of its edge.

CREATE_POINT_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS og_src (i int PRIMARY KEY, edge_id bigint, fraction float8, access_m float8);
CREATE TEMP TABLE IF NOT EXISTS og_tgt (j int PRIMARY KEY, edge_id bigint, fraction float8, access_m float8);
TRUNCATE og_src; TRUNCATE og_tgt
"""

COPY_SRC = "COPY og_src (i, edge_id, fraction, access_m) FROM STDIN"
COPY_TGT = "COPY og_tgt (j, edge_id, fraction, access_m) FROM STDIN"

TARGETS_FROM_ADDRESSES = """
INSERT INTO og_tgt SELECT u.j, w.edge_id, w.fraction, w.access_m
  FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS u(address_id, j)
  JOIN walk_access w USING (address_id)
"""

VERTEX_BASE = "SELECT coalesce(max(id), 0) + 1 FROM walk_node"

# Text handed to pgRouting (it runs it itself): fixed; {vertex} is "<int> + s.i" (one vertex
# per site) or "<int>" (one super-source for all sites), the integer inserted by the caller
# after int() (never user text). Site i's two links have edge ids -(2i+1) and -(2i+2).
EDGES_SQL = """
SELECT id, source, target, length_m AS cost, length_m AS reverse_cost FROM walk_edge
UNION ALL
SELECT -(2 * s.i + 1), {vertex}, e.source, s.access_m + s.fraction * e.length_m,
       s.access_m + s.fraction * e.length_m
  FROM og_src s JOIN walk_edge e ON e.id = s.edge_id
UNION ALL
SELECT -(2 * s.i + 2), {vertex}, e.target, s.access_m + (1 - s.fraction) * e.length_m,
       s.access_m + (1 - s.fraction) * e.length_m
  FROM og_src s JOIN walk_edge e ON e.id = s.edge_id
"""

# Shortest distance from the nearest site to every vertex (one search from a super-source
# linked to all sites), with the edge each vertex is reached by (to tell which site).
NEAREST_NODES = """
SELECT node, edge, agg_cost FROM pgr_drivingDistance(%(edges)s, %(start)s::bigint, %(limit)s::float8,
                                                    directed => false)
"""

ACCESS_OF_ADDRESSES = """
SELECT w.edge_id, w.fraction, w.access_m
  FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS u(address_id, n)
  JOIN walk_access w USING (address_id) ORDER BY u.n
"""

# Distances from sources to targets within %(limit)s metres: through either end of the
# target's edge, or straight along the edge when source and target share it.
# With equicost, every vertex belongs to its nearest source only (nearest-facility mode).
DISTANCES = """
WITH dd AS (
    SELECT from_v - %(base)s AS i, node, agg_cost
      FROM pgr_drivingDistance(%(edges)s, %(starts)s::bigint[], %(limit)s::float8,
                               directed => false, equicost => %(equicost)s)
), pairs AS (
    SELECT dd.i, t.j, dd.agg_cost + t.access_m + t.fraction * e.length_m AS d
      FROM og_tgt t JOIN walk_edge e ON e.id = t.edge_id JOIN dd ON dd.node = e.source
    UNION ALL
    SELECT dd.i, t.j, dd.agg_cost + t.access_m + (1 - t.fraction) * e.length_m
      FROM og_tgt t JOIN walk_edge e ON e.id = t.edge_id JOIN dd ON dd.node = e.target
    UNION ALL
    SELECT s.i, t.j, s.access_m + t.access_m + abs(s.fraction - t.fraction) * e.length_m
      FROM og_src s JOIN og_tgt t USING (edge_id) JOIN walk_edge e ON e.id = s.edge_id
)
SELECT i, j, min(d) AS d FROM pairs WHERE d <= %(limit)s GROUP BY i, j
"""
