/* Chinese for the text Leaflet and leaflet-draw (bundled in dash-leaflet) draw themselves: the
 * zoom buttons' tooltips and the editor's draw toolbar, its buttons and its drawing hints. They are
 * JavaScript options, not Dash props, so the Python catalogue cannot reach them. A page is Chinese
 * when its .og-root carries og-lang-zh (every page's root does, see app/pages/*.py); anything
 * else keeps Leaflet's English. */
(function () {
    var L = window.L;
    if (!L) {
        return;
    }
    var ZOOM = {zoomInTitle: "放大", zoomOutTitle: "缩小"};
    var DRAW = {
        draw: {
            toolbar: {
                actions: {title: "取消绘制", text: "取消"},
                finish: {title: "完成绘制", text: "完成"},
                undo: {title: "删除最后一个点", text: "删除最后一点"},
                buttons: {polyline: "画线", polygon: "画多边形", rectangle: "画矩形", circle: "画圆",
                          marker: "放置标记", circlemarker: "放置圆点"}
            },
            handlers: {
                circle: {tooltip: {start: "按住并拖动画圆。"}, radius: "半径"},
                circlemarker: {tooltip: {start: "点击地图放置圆点。"}},
                marker: {tooltip: {start: "点击地图放置标记。"}},
                polygon: {tooltip: {start: "点击开始画多边形。", cont: "点击继续画。", end: "点击第一个点闭合。"}},
                polyline: {error: "<strong>错误：</strong>边不能相交！",
                           tooltip: {start: "点击开始画线。", cont: "点击继续画线。", end: "点击最后一个点结束。"}},
                rectangle: {tooltip: {start: "按住并拖动画矩形。"}},
                simpleshape: {tooltip: {end: "松开鼠标完成。"}}
            }
        },
        edit: {
            toolbar: {
                actions: {save: {title: "保存修改", text: "保存"}, cancel: {title: "取消编辑，放弃全部修改", text: "取消"},
                          clearAll: {title: "清除全部图形", text: "全部清除"}},
                buttons: {edit: "编辑图形", editDisabled: "没有可编辑的图形", remove: "删除图形",
                          removeDisabled: "没有可删除的图形"}
            },
            handlers: {
                edit: {tooltip: {text: "拖动顶点或标记进行编辑。", subtext: "点击“取消”撤销修改。"}},
                remove: {tooltip: {text: "点击要删除的图形。"}}
            }
        }
    };

    function chinese(el) {
        var root = (el && el.closest && el.closest(".og-root")) || document.querySelector(".og-root");
        return !!root && root.classList.contains("og-lang-zh");
    }

    // Copies the Chinese leaves into leaflet-draw's own object (keeps any key we do not know).
    function merge(target, zh) {
        Object.keys(zh).forEach(function (k) {
            if (typeof zh[k] === "object" && target[k] && typeof target[k] === "object") {
                merge(target[k], zh[k]);
            } else {
                target[k] = zh[k];
            }
        });
    }

    var zoomOnAdd = L.Control.Zoom.prototype.onAdd;
    L.Control.Zoom.prototype.onAdd = function (map) {
        if (chinese(map.getContainer())) {
            L.setOptions(this, ZOOM);
        }
        return zoomOnAdd.call(this, map);
    };

    // leaflet-draw arrives in an async chunk that assigns L.drawLocal when it loads and reads it
    // when its toolbars and hints are made, so the texts are swapped as it is assigned.
    var drawLocal = L.drawLocal;
    function localize(value) {
        if (value && chinese(null)) {
            merge(value, DRAW);
        }
        return value;
    }
    Object.defineProperty(L, "drawLocal", {
        configurable: true,
        enumerable: true,
        get: function () { return drawLocal; },
        set: function (value) { drawLocal = localize(value); }
    });
    localize(drawLocal);
})();
