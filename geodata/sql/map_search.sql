-- Place-name search: grid/area codes by prefix, names and address text by substring and
-- trigram similarity (pg_trgm GIN indexes). %(pattern)s is the escaped ILIKE pattern.
WITH hits AS (
    (SELECT 'grid' AS kind, g.code AS key, g.name AS label, g.code AS detail,
            CASE WHEN g.code = %(q)s THEN 3 WHEN g.code LIKE %(prefix)s THEN 2.5
                 WHEN g.name ILIKE %(pattern)s THEN 1 + similarity(g.name, %(q)s)
                 ELSE word_similarity(%(q)s, g.name) END AS score
       FROM grid g
      WHERE g.code LIKE %(prefix)s OR g.name ILIKE %(pattern)s OR %(q)s <%% g.name
      ORDER BY score DESC LIMIT %(limit)s)
    UNION ALL
    (SELECT 'area', a.code, a.name, a.level,
            CASE WHEN a.code = %(q)s THEN 3 WHEN a.code LIKE %(prefix)s THEN 2.5
                 WHEN a.name ILIKE %(pattern)s THEN 1.2 + similarity(a.name, %(q)s)
                 ELSE word_similarity(%(q)s, a.name) END
       FROM admin_area a
      WHERE a.code LIKE %(prefix)s OR a.name ILIKE %(pattern)s OR %(q)s <%% a.name
      ORDER BY 5 DESC LIMIT %(limit)s)
    UNION ALL
    (SELECT 'facility', f.id::text, f.name, f.kind,
            CASE WHEN f.name ILIKE %(pattern)s THEN 1.1 + similarity(f.name, %(q)s)
                 ELSE word_similarity(%(q)s, f.name) END
       FROM facility f
      WHERE f.name ILIKE %(pattern)s OR %(q)s <%% f.name
      ORDER BY 5 DESC LIMIT %(limit)s)
    UNION ALL
    (SELECT 'address', a.id::text, a.full_text, a.grid_code,
            CASE WHEN a.full_text ILIKE %(pattern)s THEN 1 + similarity(a.full_text, %(q)s)
                 ELSE word_similarity(%(q)s, a.full_text) END
       FROM address a
      WHERE a.full_text ILIKE %(pattern)s OR %(q)s <%% a.full_text
      ORDER BY 5 DESC LIMIT %(limit)s)
)
SELECT kind, key, label, detail, score FROM hits ORDER BY score DESC, label LIMIT %(limit)s
