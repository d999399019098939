// Page-level switches for BokehJS in the explorer (see dplm_explore/app/_bokeh_page.py).
(function patch(tries) {
  var B = window.Bokeh;
  if (B && B.require) {
    var V = null, P = null;
    try { V = B.require("core/visuals/visual").VisualProperties; } catch (e) { V = null; }
    if (V && typeof V.prototype._get_css_value === "function" && !V.prototype.__dplm_no_css) {
      V.prototype._get_css_value = function () { return ""; };
      V.prototype.__dplm_no_css = true;
    }
    try { P = B.require("models/plots/plot_canvas").PlotView; } catch (e) { P = null; }
    var d = P ? Object.getOwnPropertyDescriptor(P.prototype, "base_font_size") : null;
    if (d && d.get && d.configurable && !P.prototype.__dplm_font) {
      Object.defineProperty(P.prototype, "base_font_size", {configurable: true, get: function () {
        if (this.__dplm_bfs == null) { this.__dplm_bfs = d.get.call(this); }
        return this.__dplm_bfs;
      }});
      P.prototype.__dplm_font = true;
    }
    var D = null;
    try { D = B.require("core/dom").InlineStyleSheet; } catch (e) { D = null; }
    if (D && typeof D.prototype._update === "function" && !D.prototype.__dplm_same_css) {
      var update = D.prototype._update;
      D.prototype._update = function (css) { if (this.el.textContent !== css) { update.call(this, css); } };
      D.prototype.__dplm_same_css = true;
    }
    var EV = null, DOC = null;
    try { EV = B.require("document/events"); DOC = B.require("document/document").Document; } catch (e) { EV = null; }
    if (EV && DOC && EV.DocumentEventBatch && typeof DOC.prototype._trigger_on_change === "function" && !DOC.prototype.__dplm_no_echo) {
      var from_kernel = function (ev) {
        return ev.sync === false && (ev instanceof EV.ModelChangedEvent || ev instanceof EV.ColumnDataChangedEvent
          || ev instanceof EV.ColumnsStreamedEvent || ev instanceof EV.ColumnsPatchedEvent);
      };
      DOC.prototype._trigger_on_change = function (event) {
        for (const [callback, allow_batches] of this._callbacks) {
          if (allow_batches) { callback(event); continue; }
          const events = event instanceof EV.DocumentEventBatch ? event.events : [event];
          for (const ev of events) { if (!from_kernel(ev)) { callback(ev); } }
        }
      };
      DOC.prototype.__dplm_no_echo = true;
    }
    return;
  }
  if (tries > 0) { setTimeout(function () { patch(tries - 1); }, 50); }
})(600);
