-- One place by kind and key: its names, links up the hierarchy, lon/lat extent (degrees) and
-- its geometry as GeoJSON (simplified to ~1 m, 6 decimals) for the map's highlight.
SELECT * FROM (
    SELECT 'grid' AS kind, g.code AS key, g.code, g.name, g.community_code AS area_code,
           g.supervisor, g.households, NULL::text AS facility_kind, NULL::integer AS capacity,
           ST_XMin(g.geom) AS minlon, ST_YMin(g.geom) AS minlat, ST_XMax(g.geom) AS maxlon, ST_YMax(g.geom) AS maxlat,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.geom, 0.00001), 6)::json AS geometry
      FROM grid g WHERE %(kind)s = 'grid' AND g.code = %(key)s
    UNION ALL
    SELECT 'area', a.code, a.code, a.name, a.code, NULL, NULL, NULL, NULL,
           ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom),
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, 0.00001), 6)::json
      FROM admin_area a WHERE %(kind)s = 'area' AND a.code = %(key)s
    UNION ALL
    SELECT 'facility', f.id::text, f.code, f.name, coalesce(f.community_code, f.street_code), NULL, NULL,
           f.kind, f.capacity, ST_X(f.geom), ST_Y(f.geom), ST_X(f.geom), ST_Y(f.geom), ST_AsGeoJSON(f.geom, 6)::json
      FROM facility f WHERE %(kind)s = 'facility' AND f.id::text = %(key)s
    UNION ALL
    SELECT 'address', a.id::text, a.code, a.full_text, coalesce(a.community_code, a.street_code), NULL, NULL,
           NULL, NULL, ST_X(a.geom), ST_Y(a.geom), ST_X(a.geom), ST_Y(a.geom), ST_AsGeoJSON(a.geom, 6)::json
      FROM address a WHERE %(kind)s = 'address' AND a.id::text = %(key)s
) p
