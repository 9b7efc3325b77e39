-- Households and address count of every current grid (for district-wide class breaks,
-- so the legend does not change while panning).
SELECT g.households, count(a.id) AS addresses
  FROM grid g
  LEFT JOIN address a ON a.grid_code = g.code
 WHERE g.valid_to IS NULL OR g.valid_to > now()
 GROUP BY g.code, g.households
