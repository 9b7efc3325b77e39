-- Households of every current grid (district-wide class breaks: the legend stays put while panning).
SELECT g.households AS v FROM grid g WHERE g.valid_to IS NULL OR g.valid_to > now()
