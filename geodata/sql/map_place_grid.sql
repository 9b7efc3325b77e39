-- The grid a facility or address lies in (derived on write), for the parent chain.
SELECT g.code, g.name FROM grid g
 WHERE g.code = (SELECT grid_code FROM facility WHERE %(kind)s = 'facility' AND id::text = %(key)s
                 UNION ALL
                 SELECT grid_code FROM address WHERE %(kind)s = 'address' AND id::text = %(key)s
                 LIMIT 1)
