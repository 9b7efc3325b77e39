-- Addresses in the viewport counted per H3 cell, with each cell's parent one resolution up,
-- so a too-fine answer can be rolled up without scanning again. {cell} and {parent} are
-- whitelisted h3_rN columns.
SELECT a.{cell} AS cell, a.{parent} AS parent, count(*) AS n
  FROM address a
 WHERE a.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 GROUP BY a.{cell}, a.{parent}
 LIMIT %(limit)s
