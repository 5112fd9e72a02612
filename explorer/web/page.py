"""The page's own CSS (a launch() argument in Gradio 6): usable on a projector and on a phone.

At 390 px the page itself never scrolls sideways: rows wrap into a column, and a figure wider
than the screen (a 64-token heatmap, bertviz) scrolls inside its own box instead.
"""

PAGE_CSS = """
html, body { overflow-x: hidden; }
.gradio-container { max-width: 100% !important; }
/* A figure's box scrolls sideways when the figure is wider than it; the page never does. */
.block:has(> * .js-plotly-plot), .block:has(.js-plotly-plot) { overflow-x: auto; }
/* The notice line of a link takes no room until it has something to say. */
.link-notice:not(:has(p)) { display: none !important; }
.link-row { align-items: center; flex-wrap: nowrap !important; gap: 8px; }
.link-row > button { flex: 0 0 auto !important; }
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .row, .form { flex-wrap: wrap !important; }
  .row:not(.link-row) > *, .column { min-width: 0 !important; flex-basis: 100% !important; }
  .link-row > * { min-width: 0 !important; }
  .table-wrap, .bertviz-frame { max-width: 100%; overflow-x: auto; }
  /* Token labels and cell values need about 700 px: below that a heatmap is drawn at 700 px
     and its box scrolls, instead of squeezing the cells into unreadable slivers. */
  .js-plotly-plot { min-width: 700px; }
  h1 { font-size: 1.4rem !important; }
}
"""
