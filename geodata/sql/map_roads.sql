-- Road centre lines of the given kinds in the viewport (base-map context), simplified by zoom.
SELECT r.kind,
       ST_AsGeoJSON(ST_Simplify(r.geom, %(tol)s), %(digits)s)::json AS geometry
  FROM road r
 WHERE r.kind = ANY(%(kinds)s)
   AND r.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 ORDER BY array_position(%(kinds)s, r.kind), r.id
 LIMIT %(limit)s
