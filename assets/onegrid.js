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

/* Live cases: points coloured by state (CSS og-case-<state>), overdue ring, clusters with the
 * overdue share as a red arc; hideout.selected rings the selected case. */
window.onegrid.cases = {
    casePoint: function (feature, latlng, context) {
        var p = feature.properties;
        var sel = context && context.hideout && context.hideout.selected === p.id;
        var cls = "og-case-dot og-case-" + p.s + (p.o ? " og-case-late" : "") + (sel ? " og-case-selected" : "");
        var icon = L.divIcon({html: "<i class=\"" + cls + "\" data-case=\"" + p.id + "\"></i>", className: "og-case",
                              iconSize: L.point(16, 16), iconAnchor: L.point(8, 8)});
        return L.marker(latlng, {icon: icon, zIndexOffset: sel ? 1000 : (p.o ? 500 : 0)});
    },
    caseTooltip: function (feature, layer) {
        var p = feature.properties;
        if (p.cluster) { return; }
        layer.bindTooltip(p.code + " · " + p.category + "<br>" + p.state + (p.o ? " · " + p.overdue : ""),
                          {className: "og-tip", direction: "top"});
    },
    caseCluster: function (feature, latlng, index) {
        var n = feature.properties.point_count, late = 0;
        var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
        for (var i = 0; i < leaves.length; i++) { if (leaves[i].properties.o) { late++; } }
        var share = n ? late / n : 0, deg = Math.round(share * 360);
        var size = n < 10 ? 26 : n < 100 ? 32 : 40;
        var html = "<div style=\"background:conic-gradient(var(--case-late) 0 " + deg + "deg, var(--case-ring) " + deg +
                   "deg 360deg)\"><span>" + feature.properties.point_count_abbreviated + "</span></div>";
        var icon = L.divIcon({html: html, className: "og-case-cluster", iconSize: L.point(size, size)});
        var marker = L.marker(latlng, {icon: icon});
        marker.bindTooltip(n + (late ? " · " + Math.round(share * 100) + "% ⚠" : ""), {className: "og-tip", direction: "top"});
        return marker;
    }
};

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
    },
    // A live delta {cursor, upsert, remove} merged into the case layer: replace by id, new ones
    // first, drop removed ones. Only changed cases ever travel on a tick.
    mergeCases: function (delta, data) {
        if (!delta) { return window.dash_clientside.no_update; }
        var feats = (data && data.features) || [], gone = {}, fresh = {}, i;
        for (i = 0; i < delta.remove.length; i++) { gone[delta.remove[i]] = true; }
        for (i = 0; i < delta.upsert.length; i++) { fresh[delta.upsert[i].properties.id] = delta.upsert[i]; }
        var kept = [], added = [];
        for (i = 0; i < feats.length; i++) {
            var id = feats[i].properties.id;
            if (gone[id]) { continue; }
            if (fresh[id]) { kept.push(fresh[id]); delete fresh[id]; } else { kept.push(feats[i]); }
        }
        for (i = 0; i < delta.upsert.length; i++) {
            if (fresh[delta.upsert[i].properties.id]) { added.push(delta.upsert[i]); }
        }
        window.onegrid.live = {cursor: delta.cursor, ids: kept.concat(added).map(function (f) { return f.properties.id; })};
        return Object.assign({}, data, {features: added.concat(kept)});
    },
    casesToTable: function (data, t) {
        var feats = (data && data.features) || [];
        var rows = feats.map(function (f) { return Object.assign({}, f.properties); });
        window.onegrid.shownCases = rows.map(function (r) { return r.id; });
        return [rows, (t.case_count || "{n}").replace("{n}", rows.length)];
    },
    selectCase: function (id, rowIds, pageSize, styles) {
        var nu = window.dash_clientside.no_update;
        var kept = (styles || []).filter(function (s) {
            return !(s["if"] && String(s["if"].filter_query || "").indexOf("{id} = ") === 0);
        });
        var page = nu;
        if (id !== null && id !== undefined) {
            kept.push({"if": {"filter_query": "{id} = " + id}, backgroundColor: "rgba(57, 197, 255, 0.28)"});
            var idx = (rowIds || []).indexOf(id);
            if (idx >= 0) { page = Math.floor(idx / (pageSize || 10)); }
        }
        return [{selected: id}, page, kept];
    },
    toggleReport: function (n, mode) { return n ? !mode : window.dash_clientside.no_update; },
    reportModeClass: function (mode, t) {
        return [mode ? "og-report-toggle og-on" : "og-report-toggle", mode ? t.report_mode_on : t.report_mode];
    }
};
