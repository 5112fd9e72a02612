"""Deep links: a view's state in the page URL's query string, and a URL that opens exactly that view.

    /?view=self_attention&text=The+cat+sat.&layer=3&head=7

LINKS says, per view (its API name), which query parameter fills which component (by elem_id)
and how the value is checked. A query string is user input like typed text: every value goes
through the same checks as the box it fills (explorer/core/limits.py), an unknown or bad value keeps
the box's default and says so in a notice line at the top of the tab, and nothing from it is
ever rendered as HTML.

Reading a link (server side): each tab's first paint (app.py) gets the page's query string from
gr.Request; the linked tab paints the linked inputs at once (not the default, then the link), the
tab is selected, and its notice line says what was not used. A page without a query string does
the same work as before: one parse of an empty dict per first paint, no extra event.
Writing a link (browser side): a JavaScript-only listener on each linked component writes the
current values with history.replaceState as they change; "Copy link" copies location.href.
The Lesson's buttons open their step's link through the same `Painter.render` as a page load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from explorer.core import figures as fg
from explorer.core.limits import MAX_BEAM, MAX_CHARS, MAX_SOURCE_TOKENS, MAX_TOP_TAGS, check_whole, clean_text

from .gradio_internals import FAST_PATHS, fresh_copy, serialized, update_properties

# The bundled MiniLM's shape, as the Self-attention sliders show it (1-based).
ENCODER_LAYERS, ENCODER_HEADS = 6, 12
# The decoder stops after 2 x 60 + 10 tokens (models.translator: max_length_ratio); the slider is 0-based.
MAX_DECODING_STEP = 2 * MAX_SOURCE_TOKENS + 10
DEFAULT_VIEW = "lesson"  # the first tab: where a link with an unknown view lands
# Values of `view` and parameter prefixes that Gradio's own page reads (its API page, themes).
GRADIO_VIEWS = ("api", "api-recorder", "settings")
GRADIO_PREFIX = "__"
MAX_QUERY_CHARS = 4 * MAX_CHARS  # four full text boxes; a longer query string is not read at all
# The link box shows location.href: the origin and a query string that percent-encoding can make
# up to three times as long as the text it carries.
MAX_LINK_CHARS = 3 * MAX_QUERY_CHARS + 500


@dataclass(frozen=True)
class Param:
    """One query parameter of a view: the component it fills (elem_id) and what it may hold.

    kind: "text" (checked like typed text; optional ones may be empty), "int" (a whole number in
    [low, high], as the slider shows it) or "bool" (1/0, true/false, yes/no, on/off).
    reset: a slider the view resets to its start when it reruns (the decoding step): the browser
        applies the link's value once that rerun is over (Painter)
    """

    name: str
    elem_id: str
    what: str
    kind: str = "text"
    low: int = 0
    high: int = 0
    optional: bool = False
    reset: bool = False

    def check(self, raw: str):
        """The value for the component, or ValueError saying what is allowed."""
        if self.kind == "int":
            return check_whole(raw, self.low, self.high, self.what)
        if self.kind == "bool":
            word = raw.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.what} must be 1 or 0 (true or false), got {raw[:40]!r}.")
        if self.optional and not raw.strip():
            return ""
        return clean_text(raw, self.what)


def _text(name, elem_id, what, optional=False) -> Param:
    return Param(name, elem_id, what, optional=optional)


LINKS: dict[str, tuple[Param, ...]] = {
    "lesson": (_text("text", "lesson-words", "The words"),),
    "batch": (_text("text", "batch-text", "The batch"),),
    "tag": (_text("text", "tag-text", "The text"), Param("k", "tag-k", "k (tags shown)", "int", 3, MAX_TOP_TAGS)),
    "translate": (
        _text("text", "translate-text", "The sentence"),
        Param("beam", "translate-beam", "The beam size", "int", 1, MAX_BEAM),
        Param("step", "translate-step", "The decoding step", "int", 0, MAX_DECODING_STEP, reset=True),
    ),
    "self_attention": (
        _text("text", "attn-text", "The sentence"),
        _text("text_b", "attn-text-b", "Sentence B", optional=True),
        Param("layer", "attn-layer", "The layer", "int", 1, ENCODER_LAYERS),
        Param("head", "attn-head", "The head", "int", 1, ENCODER_HEADS),
        Param("merge", "attn-merge", "merge", "bool"),
        _text("text2", "attn-compare-text", "The second input", optional=True),
        _text("text2_b", "attn-compare-text-b", "The second input's sentence B", optional=True),
    ),
    "nli": (
        _text("text", "nli-premise", "The premise"),
        _text("text_b", "nli-hypothesis", "The hypothesis"),
        _text("text2", "nli-compare-premise", "The second premise", optional=True),
        _text("text2_b", "nli-compare-hypothesis", "The second hypothesis", optional=True),
    ),
}


@dataclass(frozen=True)
class Link:
    """What a query string asks for: a view (None: no link, or an unknown view), its checked
    values by parameter name, and one plain-text notice per value that was not used."""

    view: str | None = None
    values: Mapping[str, object] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return self.view is not None or bool(self.notices)


NO_LINK = Link()


def _quoted(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:37] + "…")


def parse(query: Mapping[str, str], views: Sequence[str] | None = None) -> Link:
    """The Link a query string asks for (query: name -> value, as gr.Request.query_params).

    Never raises: every problem becomes a notice, and the value it concerns keeps its default.
    views: the API names of the app's tabs (default: those in LINKS).
    """
    query = {str(k): str(v) for k, v in query.items() if not str(k).startswith(GRADIO_PREFIX)}
    view = query.pop("view", None)
    if view in GRADIO_VIEWS:  # Gradio's API page: not ours to read
        return NO_LINK
    if view is None and not query:
        return NO_LINK
    known = tuple(views) if views is not None else tuple(LINKS)
    size = sum(len(k) + len(v) for k, v in query.items())
    if size > MAX_QUERY_CHARS:
        return Link(
            notices=(
                f"The link's query string has {size} characters; the limit is {MAX_QUERY_CHARS}. Nothing in it was used.",
            )
        )
    if view is None:
        return Link(notices=(f"The link names no view (view=…, one of {', '.join(known)}); its values were not used.",))
    if view not in known:
        return Link(
            notices=(
                f"The link asks for view={_quoted(view)}, which does not exist (views: {', '.join(known)}); showing the first tab.",
            )
        )
    params = {p.name: p for p in LINKS.get(view, ())}
    values, notices = {}, []
    for name, raw in query.items():
        param = params.get(name)
        if param is None:
            allowed = ", ".join(params) or "none"
            notices.append(
                f"The link's parameter {_quoted(name)} is not one of this view's ({allowed}); it was ignored."
            )
            continue
        try:
            values[name] = param.check(raw)
        except ValueError as err:
            notices.append(f"The link's {name}= was not used: {err} The default is shown instead.")
    return Link(view=view, values=values, notices=tuple(notices))


def notice_markdown(notices: Sequence[str]) -> str:
    """The notices as one escaped markdown line each (they quote the link's values)."""
    return "\n\n".join(f"⚠️ {fg.markdown_text(n)}" for n in notices)


def query_string(view: str, values: Mapping[str, object]) -> str:
    """The query string of a link to `view` with these values ("?view=...&text=..."): what the
    browser writes, built here for the Lesson's links (bools as 1 / 0, empty values left out)."""
    pairs = [("view", view)]
    for name, value in values.items():
        if value is None or value == "":
            continue
        pairs.append((name, ("1" if value else "0") if isinstance(value, bool) else str(value)))
    return "?" + urlencode(pairs)


# -- the browser side: JavaScript-only listeners (no server work) ----------------------------
# The browser's state: window.__explorer_opened, the tab the page's URL asked for (set once, at
# load); __explorer_view, the tab shown; __explorer_ready, set once that tab's first paint is
# drawn. Nothing writes the URL before then: Gradio fires change and select events while the page
# mounts, and its queue requests carry the URL's query string as it is when they are sent, so an
# early write would replace the link before the first paints read it.
def write_url_js(view: str, names: Sequence[str]) -> str:
    """A js= function of the view's linked values (in the order of `names`) that writes them to
    the URL while this view's tab is the one shown (a hidden tab's update must not rewrite the
    link of the tab the user is on)."""
    return (
        "(...values) => { if (!window.__explorer_ready || window.__explorer_view !== " + json.dumps(view) + ") return;"
        " const names = " + json.dumps(list(names)) + ";"
        " const q = new URLSearchParams(); q.set('view', " + json.dumps(view) + ");"
        " names.forEach((n, i) => { let v = values[i];"
        "   if (v === null || v === undefined || v === '') return;"
        "   if (typeof v === 'boolean') v = v ? '1' : '0';"
        "   q.set(n, String(v)); });"
        " history.replaceState(history.state, '', location.pathname + '?' + q.toString()); }"
    )


def select_view_js(view: str, names: Sequence[str], before: str = "") -> str:
    """A js= function for a tab's select event: this view is now shown; write its link
    (`before`: a statement to run first, e.g. a scroll)."""
    return (
        "(...values) => { if (!window.__explorer_ready) return; "
        + before
        + " window.__explorer_view = "
        + json.dumps(view)
        + "; ("
        + write_url_js(view, names)
        + ")(...values); }"
    )


def painted_js(view: str, names: Sequence[str]) -> str:
    """A js= function run after a tab's first paint: if the page opened on this tab, the page is
    ready, and a link's URL now says what the tab shows (a bad value replaced by the default); a
    page opened without a link keeps its plain URL."""
    return (
        "(...values) => { if (window.__explorer_opened !== " + json.dumps(view) + ") return;"
        " window.__explorer_view = " + json.dumps(view) + "; window.__explorer_ready = true;"
        " if (location.search) (" + write_url_js(view, names) + ")(...values); }"
    )


# Which tab the page opens on: the link's view when it is one of ours, else the first tab.
OPENED_JS = (
    "() => { const v = new URLSearchParams(location.search).get('view');"
    " const ours = %s; window.__explorer_opened = ours.includes(v) ? v : ours[0]; }"
)

# Copy link: the clipboard when the page is a secure context (https, localhost), and always the
# box beside the button, selected, so a teacher on plain http can copy it by hand.
COPY_LINK_JS = (
    "() => { const url = location.href;"
    " if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).catch(() => {});"
    " return url; }"
)


# -- the server side: each tab's first paint, link-aware ---------------------------------------
@dataclass
class Painter:
    """A view's first paint that can also paint a Link: runs the view (and its linked sections,
    e.g. the comparison) on the linked inputs, selects the tab and writes the notices.

    The linked values reach the page in two steps. Sliders and boxes without a live listener come
    with the answer. Boxes the view listens to (its sentence, the merge checkbox) come in
    `link_values` (JSON by elem_id), which a JavaScript step then puts in the boxes: Gradio runs a
    change listener with the values its other inputs had *before* the update that triggered it, so a
    sentence set together with layer=3 would recompute the view with layer 1. Set one step later, it
    reruns the view on the same inputs, a hit in the answer cache. A slider that such a rerun resets
    (the decoding step) is re-applied from `pending` by the browser.
    inputs / outputs: the load event's components; render(link, *values) -> updates by component.
    """

    view: str
    paint: object  # explorer.contract.FirstPaint
    params: dict  # Param name -> component
    parts: object  # LinkParts of the tab: its notice line and the hidden link_values box
    tabs: object  # the gr.Tabs holding every view
    owns_bad_links: bool  # the first tab: shows the notice of a link to an unknown view
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def __post_init__(self):
        linked = list(getattr(self.paint, "linked", ()))
        self.inputs = _unique([*self.paint.inputs, *(c for extra in linked for c in extra.inputs)])
        shown = [*self.paint.outputs, *(c for extra in linked for c in extra.outputs)]
        direct = [c for c in self.params.values() if c not in shown and not self.listened(c)]
        self.outputs = _unique([*shown, *direct, self.parts.notice, self.parts.link_values, self.tabs])

    def listened(self, component) -> bool:
        """True for an input of the view's own paint that is not a slider: the view reruns on its change."""
        return component in self.paint.inputs and not isinstance(component, gr.Slider)

    def filled(self) -> list:
        """The boxes the browser fills one step after the answer (see the class docstring)."""
        return [c for c in self.params.values() if self.listened(c)]

    def render(self, link: Link, *values) -> dict:
        current = dict(zip(self.inputs, values))
        mine = link.view == self.view
        if mine:
            for name, value in link.values.items():
                if self.params.get(name) in current:
                    current[self.params[name]] = value
        answer = dict(self.paint.fn(*[current[c] for c in self.paint.inputs]))
        notices = list(link.notices) if mine or (self.owns_bad_links and link.view is None) else []
        if mine:
            fill, pending = {}, {}
            for name, value in link.values.items():
                component = self.params.get(name)
                if component is None:
                    continue
                if self.listened(component):
                    if current.get(component) != values[self.inputs.index(component)]:
                        fill[component.elem_id] = value
                elif component in answer and isinstance(answer[component], gr.Slider):
                    # A slider whose range the view sets from its answer (the decoding step): the
                    # browser moves it once the answer has settled (pending_js), within that range.
                    top = update_properties(answer[component]).get("maximum")
                    if top is not None and value > top:
                        notices.append(f"The link's {name}={value} is past the last one ({top:g}); showing {top:g}.")
                        value = top
                    pending[component.elem_id] = value
                elif component not in answer:
                    answer[component] = value
            for extra in getattr(self.paint, "linked", ()):
                if any(self.params.get(name) in extra.inputs for name in link.values):
                    answer.update(extra.fn(*[current[c] for c in extra.inputs]))
            answer[self.tabs] = gr.Tabs(selected=self.view)
            answer[self.parts.link_values] = json.dumps({"fill": fill, "pending": pending})
        if notices:
            answer[self.parts.notice] = notice_markdown(notices)
        return answer

    def page_open(self) -> Callable:
        """The function of the page's load event: the Link from the page URL, then render; with
        the fast paths (gradio_internals.FAST_PATHS) its answer comes as Gradio would send it (the
        event runs with postprocess=False), and a page opened without a link asks what every such
        visitor asks (the tab's defaults), so that answer is serialized once and each visitor gets
        a copy (why: gradio_internals.serialized).
        """
        stored: dict = {}  # the defaults' key -> the serialized answer (one entry: a page opens with the defaults)

        # The request comes first: Gradio hands it only to a positional parameter, found by its hint.
        def first_paint(request: gr.Request, *values):
            query = dict(request.query_params) if request is not None else {}
            if not FAST_PATHS:
                return self.render(parse(query) if query else NO_LINK, *values)
            if query:
                return serialized(self.render(parse(query), *values))
            key = json.dumps(values, default=repr, sort_keys=True)
            if key in stored:
                return fresh_copy(stored[key])
            answer = serialized(self.render(NO_LINK, *values), self.outputs)
            if not stored:
                stored[key] = answer
            return fresh_copy(answer)

        return first_paint

    def then_fill(self, event) -> None:
        """Chain the browser's fill of the listened boxes onto an event that ran render(): one box
        per step, each once the page is quiet (the rerun the previous one caused is over), so no
        rerun reads a box the link has not filled yet; then the sliders such a rerun resets."""
        for position, box in enumerate(self.filled()):
            event = event.then(None, [self.parts.link_values, box], [box], js=fill_js(box.elem_id, wait=position > 0))
        for param in LINKS.get(self.view, ()):
            if param.reset and param.name in self.params:
                slider = self.params[param.name]
                event = event.then(None, [slider], [slider], js=pending_js(param.elem_id))


# Resolves once no progress indicator has shown for 0.6 s (at most 10 s): the view's reruns are over.
QUIET = (
    "const quiet = async () => { const busy = () => [...document.querySelectorAll('.progress-text, .eta-bar, .generating')]"
    ".some(e => e.offsetParent !== null);"
    " for (let calm = 0, i = 0; calm < 3 && i < 50; i++) { await new Promise(r => setTimeout(r, 200));"
    " calm = busy() ? 0 : calm + 1; } };"
)


def fill_js(elem_id: str, wait: bool) -> str:
    """A js= function (link_values JSON, the box's value) -> the link's value for this box (once the
    page is quiet, when `wait`: a box filled before it caused a rerun), or the box's own; remembers
    the sliders to move after the last rerun."""
    return (
        "async (box, current) => { if (!box) return current; const v = JSON.parse(box);"
        " const id = "
        + json.dumps(elem_id)
        + "; if (!(id in v.fill)) return current;"
        + (" " + QUIET + " await quiet();" if wait else "")
        + " window.__explorer_pending = v.pending; return v.fill[id]; }"
    )


def pending_js(elem_id: str) -> str:
    """A js= function (the slider's value) -> the link's value for it, if one waits, once the page
    is quiet: after the rerun the fill caused, so the view's step listener draws it from the
    settled answer. Gradio awaits the promise."""
    return (
        "async (value) => { const p = window.__explorer_pending || {}; const id = " + json.dumps(elem_id) + ";"
        " if (!(id in p)) return value; const want = p[id]; delete p[id];"
        " " + QUIET + " await quiet(); return want; }"
    )


@dataclass(frozen=True)
class LinkParts:
    """What app.py puts in each tab for its link: the tab, its notice line, Copy link and the link's box."""

    tab: object
    notice: object
    copy: object
    link_box: object
    link_values: object  # hidden: the linked values the browser fills in one step later (Painter)


def link_row(api_name: str, tab) -> LinkParts:
    """The notice line and the Copy link row at the top of a tab (call inside that gr.Tab)."""
    notice = gr.Markdown(elem_id=f"{api_name}-link-notice", elem_classes="link-notice")
    with gr.Row(elem_classes="link-row"):
        copy = gr.Button("Copy link", size="sm", scale=0, min_width=120, elem_id=f"{api_name}-copy-link")
        box = gr.Textbox(
            show_label=False,
            container=False,
            placeholder="Copy link puts this view's link here (and on the clipboard)",
            scale=4,
            max_length=MAX_LINK_CHARS,
            elem_id=f"{api_name}-link",
        )
    # Written by the server, read by the page's script: not an input anyone types in.
    values = gr.Textbox(visible=False, interactive=False, elem_id=f"{api_name}-link-values")
    return LinkParts(tab, notice, copy, box, values)


def _unique(components: list) -> list:
    seen, kept = set(), []
    for c in components:
        if id(c) not in seen:
            seen.add(id(c))
            kept.append(c)
    return kept


def components_by_id(blocks) -> dict:
    """Every component of the Blocks that has an elem_id, by it."""
    return {b.elem_id: b for b in blocks.blocks.values() if getattr(b, "elem_id", None)}


def wire(blocks, tabs, first_paints: list, parts: Mapping[str, LinkParts]) -> dict:
    """Make every first paint link-aware and every linked value write the URL; returns the
    Painter of each view by API name (the Lesson's buttons use them). Call inside `blocks`."""
    by_id = components_by_id(blocks)
    api_names = [view.api_name for view, _ in first_paints]
    blocks.load(None, None, None, js=OPENED_JS % json.dumps(api_names))  # before any first paint
    painters = {}
    for position, (view, paint) in enumerate(first_paints):
        params = {p.name: by_id[p.elem_id] for p in LINKS.get(view.api_name, ()) if p.elem_id in by_id}
        part = parts[view.api_name]
        painter = Painter(view.api_name, paint, params, part, tabs, owns_bad_links=position == 0)
        painters[view.api_name] = painter
        # First paint: no concurrency limit (a hit in the shared answer cache waits for no model
        # queue); the progress shows on the view's own outputs, not on the boxes a link fills.
        names, linked = list(params), list(params.values())
        painted = blocks.load(
            painter.page_open(),
            painter.inputs,
            painter.outputs,
            api_name=False,
            concurrency_limit=None,
            show_progress_on=list(paint.outputs),
            postprocess=not FAST_PATHS,  # fast paths: page_open sends its answer serialized (stored once)
        ).then(None, linked, None, js=painted_js(view.api_name, names))
        painter.then_fill(painted)
        for component in linked:
            component.change(None, linked, None, js=write_url_js(view.api_name, names))
        part.tab.select(None, linked, None, js=select_view_js(view.api_name, names))
        part.copy.click(None, None, [part.link_box], js=COPY_LINK_JS)
    return painters
