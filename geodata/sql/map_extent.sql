-- Extent of the data (district first, then any admin area, then grids, then addresses),
-- lon/lat degrees, EPSG:4326; and the district's name for the page header.
WITH ext AS (
    SELECT coalesce(
        (SELECT ST_Extent(geom)::geometry FROM admin_area WHERE level = 'district'),
        (SELECT ST_Extent(geom)::geometry FROM admin_area),
        (SELECT ST_Extent(geom)::geometry FROM grid),
        (SELECT ST_Extent(geom)::geometry FROM address)
    ) AS e
)
SELECT ST_XMin(e) AS minlon, ST_YMin(e) AS minlat, ST_XMax(e) AS maxlon, ST_YMax(e) AS maxlat,
       (SELECT name FROM admin_area WHERE level = 'district' ORDER BY code LIMIT 1) AS district_name,
       (SELECT code FROM admin_area WHERE level = 'district' ORDER BY code LIMIT 1) AS district_code
  FROM ext
