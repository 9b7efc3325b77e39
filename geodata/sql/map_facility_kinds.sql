-- Facility kinds with their colour, glyph and how many facilities of each exist.
SELECT k.code, k.name_zh, k.name_en, k.color, k.glyph, k.life_circle,
       (SELECT count(*) FROM facility f WHERE f.kind = k.code) AS n
  FROM facility_kind k
 ORDER BY k.sort, k.code
