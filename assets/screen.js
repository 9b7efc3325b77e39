/* Wall screen (/screen) and export downloads, under the window.onegrid namespace. */
window.onegrid = Object.assign({}, window.onegrid);
/* Download a file with progress in a status line: elapsed seconds while the server prepares it,
 * then the share received (the routes send their length), then the browser saves it. */
window.onegrid.download = function (url, statusId, t) {
    var el = document.getElementById(statusId), started = Date.now(), timer = null;
    var show = function (text, cls) { if (el) { el.textContent = text; el.className = "og-export-status " + (cls || ""); } };
    var stop = function () { if (timer) { clearInterval(timer); timer = null; } };
    show(t.export_working, "og-busy");
    timer = setInterval(function () {
        show(t.export_working + " " + Math.round((Date.now() - started) / 1000) + " s", "og-busy");
    }, 500);
    return fetch(url).then(function (resp) {
        stop();
        if (!resp.ok) {
            return resp.json().then(function (body) { throw new Error(body.message || resp.statusText); });
        }
        var total = +(resp.headers.get("Content-Length") || 0), got = 0, chunks = [];
        var name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [null, "onegrid"])[1];
        var reader = resp.body.getReader();
        var pump = function () {
            return reader.read().then(function (r) {
                if (r.done) { return; }
                chunks.push(r.value);
                got += r.value.length;
                show(t.export_receiving + " " + (total ? Math.round(100 * got / total) + "%" : Math.round(got / 1024) + " KB"),
                     "og-busy");
                return pump();
            });
        };
        return pump().then(function () {
            var a = document.createElement("a");
            a.href = URL.createObjectURL(new Blob(chunks, {type: resp.headers.get("Content-Type") || ""}));
            a.download = name;
            document.body.appendChild(a);
            a.click();
            setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
            show(t.export_done.replace("{name}", name), "og-ok");
        });
    }).catch(function (e) { stop(); show(t.error_prefix + e.message, "og-error"); });
};
window.onegrid.exportClick = function (n, urls, t, which, statusId) {
    if (!n || !urls || !urls[which]) { return window.dash_clientside.no_update; }
    window.onegrid.download(urls[which], statusId, t);
    return {which: which, at: Date.now()};
};

window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.onegrid = Object.assign({}, window.dash_clientside.onegrid, {
    // Next view of the rotation: fly the map there, show its name, narrow the case filter to it.
    rotateWall: function (n, index, views, flt) {
        var nu = window.dash_clientside.no_update;
        if (!views || views.length < 2) { return [nu, nu, nu, nu]; }
        var next = ((index || 0) + 1) % views.length, v = views[next];
        return [next, {bounds: v.bounds, transition: "flyToBounds"}, v.name,
                Object.assign({}, flt, {streets: v.code ? [v.code] : []})];
    },
    toggleExport: function (open, close, cls) {
        var ctx = window.dash_clientside.callback_context;
        var closing = ctx.triggered.length && ctx.triggered[0].prop_id.indexOf("-close") >= 0;
        var hidden = closing || cls.indexOf("og-hidden") < 0;
        return cls.replace(/ ?og-hidden/g, "") + (hidden ? " og-hidden" : "");
    },
    // The district's time (ONEGRID_TIMEZONE), as the ticker and the figures count days, not
    // the time zone of the machine driving the wall.
    wallClock: function (n, tz) {
        var parts = {};
        try {
            new Intl.DateTimeFormat("en-GB", {timeZone: tz || undefined, hourCycle: "h23", year: "numeric",
                month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"})
                .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
        } catch (e) { return new Date().toISOString().slice(0, 19).replace("T", " "); }
        return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" +
               parts.second;
    }
});
