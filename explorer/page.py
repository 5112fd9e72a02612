"""The page's own CSS (a launch() argument in Gradio 6): usable on a projector and on a phone.

At 390 px the page itself never scrolls sideways: rows wrap into a column, and a figure wider
than the screen (a 64-token heatmap, bertviz) scrolls inside its own box instead.
"""

PAGE_CSS = """
html, body { overflow-x: hidden; }
.gradio-container { max-width: 100% !important; }
/* Wide figures scroll inside their box, not the page. */
.js-plotly-plot, .plot-container { max-width: 100%; overflow-x: auto; }
.link-notice:empty { display: none; }
.link-row { align-items: center; }
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .row, .form { flex-wrap: wrap !important; }
  .row > *, .column { min-width: 0 !important; flex-basis: 100% !important; }
  .table-wrap, .bertviz-frame { max-width: 100%; overflow-x: auto; }
  h1 { font-size: 1.4rem !important; }
}
"""
