-- Health check: PostGIS answers, and how much map data is loaded.
SELECT postgis_lib_version() AS postgis,
       (SELECT count(*) FROM admin_area) AS admin_areas,
       (SELECT count(*) FROM grid) AS grids,
       (SELECT count(*) FROM address) AS addresses,
       (SELECT count(*) FROM facility) AS facilities,
       (SELECT count(*) FROM road) AS roads
