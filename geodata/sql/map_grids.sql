-- Current grids in the viewport with households and address counts, simplified by zoom.
SELECT g.code, g.name, g.households,
       (SELECT count(*) FROM address a WHERE a.grid_code = g.code) AS addresses,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.geom, %(tol)s), %(digits)s)::json AS geometry
  FROM grid g
 WHERE (g.valid_to IS NULL OR g.valid_to > now())
   AND g.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 ORDER BY g.code
 LIMIT %(limit)s
