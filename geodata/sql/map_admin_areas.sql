-- Admin areas of one level intersecting the viewport, simplified to about a pixel.
SELECT a.code, a.name, a.level, a.parent_code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, %(tol)s), %(digits)s)::json AS geometry
  FROM admin_area a
 WHERE a.level = %(level)s
   AND a.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 ORDER BY a.code
 LIMIT %(limit)s
