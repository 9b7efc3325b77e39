/* Key-population density hexagons (window.onegrid.density): classes come from CSS
 * (onegrid-density.css) so the theme switch restyles; suppressed cells are hatched, no number. */
(function () {
    window.onegrid = Object.assign({}, window.onegrid);
    window.onegrid.density = {
        cellStyle: function (feature) {
            var c = feature.properties.c;
            return {className: "og-dens-cell " + (c < 0 ? "og-dens-suppressed" : "og-dens-c" + c),
                    weight: c < 0 ? 1 : 0.6, fillOpacity: c < 0 ? 0.5 : 0.7};
        },
        cellTooltip: function (feature, layer) {
            var p = feature.properties;
            var text = (p.v === null || p.v === undefined) ? "—" : Number(p.v).toLocaleString();
            layer.bindTooltip(text, {sticky: true, className: "og-tip"});
        }
    };
})();
