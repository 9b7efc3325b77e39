/* Grid editor map functions (page /editor) under window.onegrid.editor. Colours come from
 * CSS classes in onegrid-editor.css, so the theme switch needs no new data. GeoJSON is lon/lat. */
window.onegrid = Object.assign({}, window.onegrid, {
    editor: {
        gridStyle: function (feature, context) {
            var p = feature.properties;
            var sel = context && context.hideout && context.hideout.selected || [];
            var cls = "ed-grid ed-grid-" + p.status + (sel.indexOf(p.code) >= 0 ? " ed-grid-selected" : "");
            return {className: cls, weight: sel.indexOf(p.code) >= 0 ? 3 : 1.5, fillOpacity: 0.35};
        },
        gridLabel: function (feature, layer) {
            var p = feature.properties;
            var seq = String(p.code).slice(-3);
            layer.bindTooltip(seq + "<br>" + (p.households === undefined ? "" : p.households + " " + (p.unit || "")),
                              {permanent: true, direction: "center", className: "ed-label"});
        },
        problemStyle: function (feature) {
            return {className: "ed-problem ed-problem-" + feature.properties.rule, weight: 2, fillOpacity: 0.5};
        },
        problemPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: 8, className: "ed-problem ed-problem-point"});
        },
        problemTip: function (feature, layer) {
            layer.bindTooltip(feature.properties.text, {sticky: true, className: "og-tip"});
        },
        overlayStyle: function (feature) {
            return {className: "ed-overlay ed-change-" + feature.properties.change, weight: 2, fill: false,
                    dashArray: "6 4"};
        },
        communityStyle: function () {
            return {className: "ed-community", weight: 1.2, fillOpacity: 0.18};
        },
        communityLabel: function (feature, layer) {
            var p = feature.properties;
            layer.bindTooltip((p.street ? p.street + " · " : "") + p.name, {sticky: true, className: "og-tip"});
        },
        movedPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: 3, className: "ed-moved-point", weight: 1, fillOpacity: 0.9});
        }
    }
});
