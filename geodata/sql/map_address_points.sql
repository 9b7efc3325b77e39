-- Raw address points in the viewport (street zoom only), lon/lat degrees.
SELECT a.id, a.full_text, round(ST_X(a.geom)::numeric, 6)::float8 AS lon,
       round(ST_Y(a.geom)::numeric, 6)::float8 AS lat
  FROM address a
 WHERE a.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 ORDER BY a.id
 LIMIT %(limit)s
