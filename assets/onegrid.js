/* OneGrid map functions for dash-leaflet functional props, under one namespace.
 * Colours come from CSS classes (see onegrid.css), so switching the theme restyles
 * the map without re-sending any data. Coordinates from the server are GeoJSON lon/lat. */
window.onegrid = Object.assign({}, window.onegrid, {
    map: {
        districtStyle: function () {
            return {className: "og-district-fill", weight: 0, fillOpacity: 1};
        },
        roadStyle: function (feature) {
            return {className: "og-road og-road-" + feature.properties.kind, fill: false};
        },
        outlineStyle: function (feature, context) {
            var fill = !!(context && context.hideout && context.hideout.fill);
            var level = feature.properties.level;
            // Without the grid layer the areas themselves take clicks; with it, only their edges.
            return {className: "og-outline og-outline-" + level, fill: fill, fillOpacity: 0};
        },
        areaLabel: function (feature, layer) {
            var p = feature.properties;
            if (p.label) {
                layer.bindTooltip(p.label, {permanent: true, direction: "center",
                                            className: "og-label og-label-" + p.level});
            } else {
                layer.bindTooltip(p.name + " · " + p.code, {sticky: true, className: "og-tip"});
            }
        },
        gridStyle: function (feature) {
            return {className: "og-grid og-grid-c" + feature.properties.cls, weight: 0.8};
        },
        gridLabel: function (feature, layer) {
            var p = feature.properties;
            layer.bindTooltip(p.name + " · " + p.code + "<br>" + p.value, {sticky: true, className: "og-tip"});
        },
        cellStyle: function (feature) {
            return {className: "og-cell og-cell-" + feature.properties.level, weight: 0.6, fillOpacity: 0.7};
        },
        cellTooltip: function (feature, layer) {
            layer.bindTooltip(String(feature.properties.n), {sticky: true, className: "og-tip"});
        },
        selectionStyle: function () {
            return {className: "og-selected", fill: false, weight: 3};
        },
        selectionPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: 16, className: "og-selected og-selected-point", fill: false});
        },
        addressPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: 4, className: "og-address-point", weight: 1, fillOpacity: 0.9,
                                           pane: "markerPane"});
        },
        addressCluster: function (feature, latlng) {
            var n = feature.properties.point_count;
            var size = n < 10 ? 22 : n < 100 ? 28 : 34;
            var icon = L.divIcon({
                html: "<div><span>" + feature.properties.point_count_abbreviated + "</span></div>",
                className: "og-cluster", iconSize: L.point(size, size)
            });
            return L.marker(latlng, {icon: icon});
        },
        facilityMarker: function (feature, latlng, context) {
            // Kind colour/glyph come once with the page (hideout.kinds), not with every point.
            var p = feature.properties;
            var kind = (context.hideout.kinds || {})[p.k] || {color: "#9e9e9e", glyph: "?"};
            if (p.s) {
                // markerPane: dots must sit above the polygon layers, like the glyph markers.
                return L.circleMarker(latlng, {radius: 3.5, color: "#0b1220", weight: 0.8, fillColor: kind.color,
                                               fillOpacity: 0.95, className: "og-facility-dot", pane: "markerPane"});
            }
            var icon = L.divIcon({
                html: "<i style=\"background:" + kind.color + "\">" + kind.glyph + "</i>",
                className: "og-facility", iconSize: L.point(24, 24), iconAnchor: L.point(12, 12)
            });
            return L.marker(latlng, {icon: icon});
        },
        facilityTooltip: function (feature, layer, context) {
            var p = feature.properties;
            var kind = (context.hideout.kinds || {})[p.k] || {name: p.k};
            if (p.n) { layer.bindTooltip(p.n + " · " + kind.name, {className: "og-tip", direction: "top"}); }
        }
    }
});

window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.onegrid = {
    // Theme switch in the browser; the language link keeps the chosen theme across the reload.
    toggleTheme: function (n, cls, href) {
        var nu = window.dash_clientside.no_update;
        if (!n) { return [nu, nu]; }
        var dark = cls.indexOf("og-theme-dark") >= 0;
        var next = dark ? cls.replace("og-theme-dark", "og-theme-light") : cls.replace("og-theme-light", "og-theme-dark");
        var lang = (/lang=(\w+)/.exec(href || "") || [null, "zh"])[1];
        return [next, "/?lang=" + lang + "&theme=" + (dark ? "light" : "dark")];
    }
};
