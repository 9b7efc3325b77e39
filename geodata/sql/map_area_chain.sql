-- An admin area and its ancestors, top (district) first.
WITH RECURSIVE chain AS (
    SELECT code, name, level, parent_code, 0 AS depth FROM admin_area WHERE code = %(code)s
    UNION ALL
    SELECT a.code, a.name, a.level, a.parent_code, c.depth + 1
      FROM admin_area a JOIN chain c ON a.code = c.parent_code
     WHERE c.depth < 5
)
SELECT code, name, level FROM chain ORDER BY depth DESC
