-- Addresses in the viewport counted per H3 cell; {cell} is a whitelisted h3_rN column.
SELECT a.{cell} AS cell, count(*) AS n
  FROM address a
 WHERE a.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 GROUP BY a.{cell}
 ORDER BY n DESC
 LIMIT %(limit)s
