-- Counts inside a scope; {col} is a whitelisted column (grid_code, community_code or
-- street_code) and {grid_col} the matching grid column (code, community_code, street_code).
SELECT (SELECT count(*) FROM address WHERE {col} = ANY(%(codes)s)) AS addresses,
       (SELECT count(*) FROM grid WHERE {grid_col} = ANY(%(codes)s)) AS grids,
       (SELECT coalesce(sum(households), 0) FROM grid WHERE {grid_col} = ANY(%(codes)s)) AS households,
       (SELECT count(*) FROM admin_area WHERE level = 'community' AND parent_code = ANY(%(codes)s)) AS communities,
       (SELECT coalesce(json_object_agg(kind, n), '{{}}'::json)
          FROM (SELECT kind, count(*) AS n FROM facility WHERE {col} = ANY(%(codes)s) GROUP BY kind) k)
           AS facilities
