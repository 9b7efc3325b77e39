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
    // Saturated ramp (cold blue → cyan → yellow → orange → red): the old Spectral ramp's pale
    // middle (#abdda4, #ffffbf) washed the dark map out. The legend ramp (.og-heat-ramp in
    // onegrid-warn.css) uses the same stops.
    var PALETTE_STOPS = [[0.0, "rgba(43,131,186,0)"], [0.15, "#2b83ba"], [0.4, "#1fb5c9"], [0.65, "#f2de3a"],
                         [0.82, "#fd8d3c"], [1.0, "#e3171d"]];
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

    /* How the look adapts to the zoom (issue: pale at street zoom):
     * - radius: the cell's ground radius in pixels, but at most maxRadiusPx — at street zoom a
     *   700 m blob is ~350 px and a dozen of them covered the whole screen in one flat wash;
     *   capped, each hot cell reads as its own spot;
     * - intensity: blobs add up in the alpha channel, and how much they overlap depends on the
     *   zoom; the accumulated alpha is stretched so the hottest pixel in view takes the top of
     *   the ramp (the server already scales scores to the view's 95th percentile), so a hotspot
     *   is red at every zoom; cold pixels stay mostly transparent (opacity follows intensity). */
    var HeatLayer = L.Layer.extend({
        options: {radius: 700, minRadiusPx: 12, maxRadiusPx: 90, pointAlpha: 0.6, maxOpacity: 0.85,
                  pane: "overlayPane"},

        initialize: function (points, options) {
            this._points = points || [];
            L.setOptions(this, options);
        },

        onAdd: function (map) {
            this._map = map;
            var canvas = this._canvas = L.DomUtil.create("canvas", "og-heat-canvas leaflet-zoom-hide");
            canvas.style.pointerEvents = "none";
            (map.getPane(this.options.pane) || map.getPane("overlayPane")).appendChild(canvas);
            map.on("moveend zoomend resize viewreset", this._redraw, this);
            this._redraw();
        },

        onRemove: function (map) {
            map.off("moveend zoomend resize viewreset", this._redraw, this);
            L.DomUtil.remove(this._canvas);
            this._canvas = null;
        },

        setPoints: function (points) { this._points = points || []; this._redraw(); return this; },

        radiusPx: function () {
            var o = this.options, px = metresToPixels(this._map, o.radius, this._map.getCenter().lat);
            return Math.max(o.minRadiusPx, Math.min(o.maxRadiusPx, px));
        },

        _redraw: function () {
            if (!this._map || !this._canvas) { return; }
            var map = this._map, size = map.getSize(), canvas = this._canvas;
            canvas.width = size.x; canvas.height = size.y;
            L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
            var ctx = canvas.getContext("2d");
            ctx.clearRect(0, 0, size.x, size.y);
            if (!this._points.length) { canvas.dataset.drawn = "0"; return; }
            var r = this.radiusPx(), drawn = 0;
            for (var i = 0; i < this._points.length; i++) {
                var p = this._points[i];
                if (!(p[2] > 0)) { continue; }
                var pt = map.latLngToContainerPoint([p[0], p[1]]);
                if (pt.x < -r || pt.y < -r || pt.x > size.x + r || pt.y > size.y + r) { continue; }
                var g = ctx.createRadialGradient(pt.x, pt.y, 0, pt.x, pt.y, r);
                var a = Math.min(1, p[2]) * this.options.pointAlpha;
                // A flat-topped kernel: a hot cell reads as a patch, not a pin-prick, at small radii.
                g.addColorStop(0, "rgba(0,0,0," + a + ")");
                g.addColorStop(0.4, "rgba(0,0,0," + 0.8 * a + ")");
                g.addColorStop(1, "rgba(0,0,0,0)");
                ctx.fillStyle = g;
                ctx.fillRect(pt.x - r, pt.y - r, 2 * r, 2 * r);
                drawn++;
            }
            canvas.dataset.drawn = String(drawn);
            canvas.dataset.radius = String(Math.round(r));
            canvas.dataset.gain = String(this._colorize(ctx, size).toFixed(2));
        },

        // Alpha → ramp colour, stretched so the view's hottest pixel is the top colour; returns the stretch.
        _colorize: function (ctx, size) {
            palette = palette || buildPalette();
            var img = ctx.getImageData(0, 0, size.x, size.y), px = img.data, o = this.options, top = 0, i;
            for (i = 3; i < px.length; i += 4) { if (px[i] > top) { top = px[i]; } }
            if (!top) { return 0; }
            var gain = 255 / top;
            for (i = 3; i < px.length; i += 4) {
                var a = px[i];
                if (!a) { continue; }
                var v = Math.min(255, Math.round(a * gain)), j = v * 4;
                px[i - 3] = palette[j]; px[i - 2] = palette[j + 1]; px[i - 1] = palette[j + 2];
                px[i] = 255 * o.maxOpacity * Math.pow(v / 255, 0.6);  // cold: see-through; hot: strong
            }
            ctx.putImageData(img, 0, 0);
            return gain;
        }
    });

    window.onegrid = Object.assign({}, window.onegrid);
    window.onegrid.heat = {
        HeatLayer: HeatLayer,
        // GeoJSON pointToLayer: the one feature carrying the heat points becomes a HeatLayer, drawn
        // in the pane of its GeoJSON layer (og-risk-heat: above the grid fills, below the vectors).
        pointToLayer: function (feature, latlng, context) {
            var p = feature.properties || {};
            var layer = new HeatLayer(p.heat || [], {radius: p.radius || 700,
                                                     pane: (context && context.pane) || "og-risk-heat"});
            window.onegrid.heat.current = layer;
            return layer;
        }
    };
})();
