/* OneGrid heat layer: a small canvas heatmap for Leaflet, written for OneGrid (no plugin).
 *
 * Each point [lat, lng, intensity 0..1] is drawn as a radial alpha blob whose radius is a
 * ground distance (metres, converted to pixels for the current zoom and latitude); blobs add
 * up in the alpha channel, which is then coloured through a 256-step palette. The canvas
 * covers the map container and is redrawn after every move/zoom/resize.
 *
 * dash-leaflet has no heat component, so the layer comes in through a GeoJSON layer's
 * pointToLayer: the server sends one feature whose properties hold the points
 * ({heat: [[lat, lng, w], ...], radius: metres}); window.onegrid.heat.pointToLayer turns it
 * into a HeatLayer, which Leaflet adds and removes with the GeoJSON layer. */
(function () {
    var PALETTE_STOPS = [[0.0, "rgba(0,0,255,0)"], [0.2, "#2b83ba"], [0.4, "#abdda4"], [0.6, "#ffffbf"],
                         [0.8, "#fdae61"], [1.0, "#d7191c"]];
    var palette = null;

    function buildPalette() {
        var c = document.createElement("canvas");
        c.width = 256; c.height = 1;
        var ctx = c.getContext("2d");
        var g = ctx.createLinearGradient(0, 0, 256, 0);
        for (var i = 0; i < PALETTE_STOPS.length; i++) { g.addColorStop(PALETTE_STOPS[i][0], PALETTE_STOPS[i][1]); }
        ctx.fillStyle = g;
        ctx.fillRect(0, 0, 256, 1);
        return ctx.getImageData(0, 0, 256, 1).data;
    }

    function metresToPixels(map, metres, lat) {
        // Web Mercator ground resolution at this latitude and zoom.
        var mpp = 40075016.686 * Math.cos(lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
        return metres / mpp;
    }

    var HeatLayer = L.Layer.extend({
        options: {radius: 700, minRadiusPx: 6, maxOpacity: 0.85, pane: "overlayPane"},

        initialize: function (points, options) {
            this._points = points || [];
            L.setOptions(this, options);
        },

        onAdd: function (map) {
            this._map = map;
            var canvas = this._canvas = L.DomUtil.create("canvas", "og-heat-canvas leaflet-zoom-hide");
            canvas.style.pointerEvents = "none";
            map.getPane(this.options.pane).appendChild(canvas);
            map.on("moveend zoomend resize viewreset", this._redraw, this);
            this._redraw();
        },

        onRemove: function (map) {
            map.off("moveend zoomend resize viewreset", this._redraw, this);
            L.DomUtil.remove(this._canvas);
            this._canvas = null;
        },

        setPoints: function (points) { this._points = points || []; this._redraw(); return this; },

        _redraw: function () {
            if (!this._map || !this._canvas) { return; }
            var map = this._map, size = map.getSize(), canvas = this._canvas;
            canvas.width = size.x; canvas.height = size.y;
            L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
            var ctx = canvas.getContext("2d");
            ctx.clearRect(0, 0, size.x, size.y);
            if (!this._points.length) { canvas.dataset.drawn = "0"; return; }
            var lat = map.getCenter().lat;
            var r = Math.max(this.options.minRadiusPx, metresToPixels(map, this.options.radius, lat));
            var drawn = 0;
            for (var i = 0; i < this._points.length; i++) {
                var p = this._points[i];
                var pt = map.latLngToContainerPoint([p[0], p[1]]);
                if (pt.x < -r || pt.y < -r || pt.x > size.x + r || pt.y > size.y + r) { continue; }
                var g = ctx.createRadialGradient(pt.x, pt.y, 0, pt.x, pt.y, r);
                var a = Math.max(0.05, Math.min(1, p[2]));
                g.addColorStop(0, "rgba(0,0,0," + a + ")");
                g.addColorStop(1, "rgba(0,0,0,0)");
                ctx.fillStyle = g;
                ctx.fillRect(pt.x - r, pt.y - r, 2 * r, 2 * r);
                drawn++;
            }
            this._colorize(ctx, size);
            canvas.dataset.drawn = String(drawn);
        },

        _colorize: function (ctx, size) {
            palette = palette || buildPalette();
            var img = ctx.getImageData(0, 0, size.x, size.y), px = img.data, max = this.options.maxOpacity;
            for (var i = 3; i < px.length; i += 4) {
                var a = px[i];
                if (!a) { continue; }
                var j = a * 4;
                px[i - 3] = palette[j]; px[i - 2] = palette[j + 1]; px[i - 1] = palette[j + 2];
                px[i] = Math.min(255 * max, a * 1.6);
            }
            ctx.putImageData(img, 0, 0);
        }
    });

    window.onegrid = Object.assign({}, window.onegrid);
    window.onegrid.heat = {
        HeatLayer: HeatLayer,
        // GeoJSON pointToLayer: the one feature carrying the heat points becomes a HeatLayer.
        pointToLayer: function (feature, latlng) {
            var p = feature.properties || {};
            var layer = new HeatLayer(p.heat || [], {radius: p.radius || 700});
            window.onegrid.heat.current = layer;
            return layer;
        }
    };
})();
