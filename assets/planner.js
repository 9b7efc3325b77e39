/* Planner page map functions (window.onegrid.planner): served-share colours for H3 cells,
 * catchments, existing facilities and proposed sites. Counts arrive already suppressed. */
window.onegrid = Object.assign({}, window.onegrid);
window.onegrid.planner = {
    cellStyle: function (feature) {
        var s = feature.properties.share;
        var c = s >= 0.999 ? 4 : s >= 0.75 ? 3 : s >= 0.5 ? 2 : s >= 0.25 ? 1 : 0;
        return {className: "pl-cell pl-c" + c, weight: 0.4, fillOpacity: 0.55};
    },
    cellTip: function (feature, layer) {
        var p = feature.properties;
        var n = function (v) { return v === null || v === undefined ? "<" + p.k : v.toLocaleString(); };
        var share = p.coarse ? Math.round(p.share * 100) + "–" + Math.round(p.share * 100 + 25) + "%"
                             : Math.round(p.share * 100) + "%";
        layer.bindTooltip(share + " · " + (p.coarse ? "—" : n(p.served)) + " / " + n(p.people),
                          {sticky: true, className: "og-tip"});
    },
    catchStyle: function () {
        return {className: "pl-catch", weight: 1.2, fillOpacity: 0.06, dashArray: "4 3"};
    },
    catchTip: function (feature, layer) {
        layer.bindTooltip(feature.properties.label, {sticky: true, className: "og-tip"});
    },
    facility: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 4, className: "pl-fac", weight: 1, fillOpacity: 0.9})
            .bindTooltip(feature.properties.label, {className: "og-tip"});
    },
    site: function (feature, latlng) {
        var p = feature.properties;
        return L.circleMarker(latlng, {radius: 8, className: "pl-site", weight: 2, fillOpacity: 0.95})
            .bindTooltip(p.scenario + " #" + p.seq + " · " + p.label, {className: "og-tip"});
    }
};
