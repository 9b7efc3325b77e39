-- Facilities in the viewport, optionally of some kinds only, with their kind's colour and glyph.
SELECT f.id, f.code, f.name, f.kind, f.capacity, k.color, k.glyph, k.name_zh, k.name_en,
       round(ST_X(f.geom)::numeric, %(digits)s)::float8 AS lon, round(ST_Y(f.geom)::numeric, %(digits)s)::float8 AS lat
  FROM facility f
  JOIN facility_kind k ON k.code = f.kind
 WHERE f.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
   AND (%(kinds)s::text[] IS NULL OR f.kind = ANY(%(kinds)s::text[]))
 ORDER BY k.sort, f.id
 LIMIT %(limit)s
