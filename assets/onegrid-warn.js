/* OneGrid sensors, warnings and risk cells: dash-leaflet functional props and clientside
 * callbacks. Colours come from CSS classes (onegrid-warn.css) so the theme switch restyles. */
(function () {
    var RANK = {blue: 1, yellow: 2, orange: 3, red: 4};

    window.onegrid = Object.assign({}, window.onegrid);
    window.onegrid.warn = {
        // One sensor: its kind's glyph, coloured by its open warning's level (normal: neutral),
        // an acknowledged warning is ringed instead of filled-and-pulsing.
        sensorPoint: function (feature, latlng, context) {
            var p = feature.properties;
            var kinds = (context && context.hideout && context.hideout.kinds) || {};
            var kind = kinds[p.k] || {glyph: "?"};
            var cls = "og-sensor-glyph " + (p.lv ? "og-lv-" + p.lv : "og-sensor-normal") +
                      (p.st === "acknowledged" ? " og-sensor-ack" : "") + (p.st === "active" ? " og-sensor-alarm" : "");
            var icon = L.divIcon({html: "<i class=\"" + cls + "\" data-sensor=\"" + p.id + "\">" + kind.glyph + "</i>",
                                  className: "og-sensor", iconSize: L.point(20, 20), iconAnchor: L.point(10, 10)});
            return L.marker(latlng, {icon: icon, zIndexOffset: p.lv ? 400 + 100 * RANK[p.lv] : 0});
        },
        sensorTooltip: function (feature, layer, context) {
            var p = feature.properties;
            if (p.cluster) { return; }
            var kinds = (context && context.hideout && context.hideout.kinds) || {};
            var kind = kinds[p.k] || {name: p.k, unit: ""};
            var value = (p.v === null || p.v === undefined) ? "—" : (Math.round(p.v * 100) / 100) + " " + kind.unit;
            layer.bindTooltip(p.code + " · " + kind.name + "<br>" + value + (p.n ? "<br>" + p.n : ""),
                              {className: "og-tip", direction: "top"});
        },
        // A cluster takes the colour of its most severe sensor, so a red warning shows at any zoom.
        sensorCluster: function (feature, latlng, index) {
            var leaves = index.getLeaves(feature.properties.cluster_id, Infinity), top = 0, name = "";
            for (var i = 0; i < leaves.length; i++) {
                var r = RANK[leaves[i].properties.lv] || 0;
                if (r > top) { top = r; name = leaves[i].properties.lv; }
            }
            var n = feature.properties.point_count, size = n < 10 ? 24 : n < 100 ? 30 : 36;
            var icon = L.divIcon({html: "<div><span>" + feature.properties.point_count_abbreviated + "</span></div>",
                                  className: "og-sensor-cluster " + (top ? "og-lv-" + name : "og-sensor-normal"),
                                  iconSize: L.point(size, size)});
            return L.marker(latlng, {icon: icon, zIndexOffset: top * 100});
        },
        riskStyle: function (feature) {
            return {className: "og-risk-cell og-risk-c" + feature.properties.c, weight: 0.6, fillOpacity: 0.62};
        },
        riskTooltip: function (feature, layer) {
            layer.bindTooltip(String(feature.properties.s), {sticky: true, className: "og-tip"});
        }
    };

    function beep() {
        try {
            var Ctx = window.AudioContext || window.webkitAudioContext;
            var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
            osc.type = "square"; osc.frequency.value = 880;
            gain.gain.value = 0.08;
            osc.connect(gain); gain.connect(ctx.destination);
            osc.start(); osc.stop(ctx.currentTime + 0.35);
        } catch (e) { /* no audio device: the banner still shows */ }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.onegrid_warn = {
        // A sensor delta {upsert: [features]} merged by id into the sensor layer.
        mergeSensors: function (delta, data) {
            if (!delta || !data) { return window.dash_clientside.no_update; }
            var fresh = {}, i;
            for (i = 0; i < delta.upsert.length; i++) { fresh[delta.upsert[i].properties.id] = delta.upsert[i]; }
            var feats = data.features.map(function (f) {
                var id = f.properties.id, nu = fresh[id];
                if (nu) { delete fresh[id]; return nu; }
                return f;
            });
            for (var id in fresh) { if (Object.prototype.hasOwnProperty.call(fresh, id)) { feats.push(fresh[id]); } }
            return Object.assign({}, data, {features: feats});
        },
        // Announce: the banner is already filled by the server; record it and beep when allowed.
        announce: function (alarm, sound) {
            if (!alarm) { return window.dash_clientside.no_update; }
            window.onegrid.lastAlarm = alarm;
            if (sound && sound.length) { beep(); }
            return Date.now();
        },
        togglePlay: function (n, playing, t) {
            var nu = window.dash_clientside.no_update;
            if (!n) { return [nu, nu, nu]; }
            var next = !playing;
            return [next, !next, next ? t.risk_pause : t.risk_play];
        },
        // Playback: one frame further each tick; from the last frame ("now") it starts over.
        nextFrame: function (n, frame, max) {
            if (!n) { return window.dash_clientside.no_update; }
            return (frame >= max) ? 0 : frame + 1;
        }
    };
})();
