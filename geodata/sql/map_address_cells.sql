-- Address counts per H3 cell from the pre-aggregated pyramid (address_cell, kept exact by
-- triggers): cells whose addresses' box meets the viewport, densest first. {res} is a
-- whitelisted literal 7..10 so the planner can use that resolution's partial GiST index.
SELECT c.cell, c.n
  FROM address_cell c
 WHERE c.res = {res}
   AND c.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
 ORDER BY c.n DESC, c.cell
 LIMIT %(limit)s
