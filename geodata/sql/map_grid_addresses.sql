-- Address count of every current grid (district-wide class breaks).
SELECT coalesce(n.n, 0) AS v
  FROM grid g
  LEFT JOIN (SELECT grid_code, count(*) AS n FROM address GROUP BY grid_code) n ON n.grid_code = g.code
 WHERE g.valid_to IS NULL OR g.valid_to > now()
