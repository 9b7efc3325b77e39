-- District summary for the header strip: areas by level, grids, households, addresses, facilities.
SELECT (SELECT count(*) FROM admin_area WHERE level = 'street') AS streets,
       (SELECT count(*) FROM admin_area WHERE level = 'community') AS communities,
       (SELECT count(*) FROM grid WHERE valid_to IS NULL OR valid_to > now()) AS grids,
       (SELECT coalesce(sum(households), 0) FROM grid WHERE valid_to IS NULL OR valid_to > now()) AS households,
       (SELECT count(*) FROM address) AS addresses,
       (SELECT count(*) FROM facility) AS facilities
