"""Deep links: a view's state in the page URL's query string, and a URL that opens exactly that view.

    /?view=self_attention&text=The+cat+sat.&layer=3&head=7

Each view declares its parameters with the inputs they fill (View.links, Section.links:
explorer.contract.Param, found by the names the tab gives its components) and how each value
is checked. A query string is user input like typed text: every value goes
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

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from explorer.contract import Param
from explorer.core import figures as fg
from explorer.core.limits import MAX_LINK_CHARS, MAX_QUERY_CHARS

from .gradio_internals import FAST_PATHS, fresh_copy, serialized, update_properties
from .serving import LIVE
from .ui import reporting

DEFAULT_VIEW = "lesson"  # the first tab: where a link with an unknown view lands
# Values of `view` and parameter prefixes that Gradio's own page reads (its API page, themes).
GRADIO_VIEWS = ("api", "api-recorder", "settings")
GRADIO_PREFIX = "__"
SECTION = "section"  # the parameter that opens one of a view's sections, computed


def declared(views) -> dict[str, tuple[Param, ...]]:
    """The deep-link parameters of each view (by API name): its own, its sections', and
    section=<api_name> where it has sections a link can open (not one that draws the view's last
    answer, a gr.State named "result": a page just opened has none yet)."""
    out = {}
    for view in views:
        params = [*view.links, *(p for s in view.sections for p in s.links)]
        names = tuple(s.api_name for s in view.sections if "result" not in s.reads)
        if names:
            params.append(Param(SECTION, "", "The section", kind="choice", choices=names))
        twice = sorted({p.name for p in params if [q.name for q in params].count(p.name) > 1})
        if twice:  # one query parameter cannot fill two inputs: a declaration error, said at start
            raise ValueError(
                f"view {view.api_name}: the link parameters {twice} are declared twice (view and sections)"
            )
        out[view.api_name] = tuple(params)
    return out


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


def parse(query: Mapping[str, str], links: Mapping[str, Sequence[Param]]) -> Link:
    """The Link a query string asks for (query: name -> value, as gr.Request.query_params).

    Never raises: every problem becomes a notice, and the value it concerns keeps its default.
    links: each view's parameters by its API name, in tab order (`declared`).
    """
    query = {str(k): str(v) for k, v in query.items() if not str(k).startswith(GRADIO_PREFIX)}
    view = query.pop("view", None)
    if view in GRADIO_VIEWS:  # Gradio's API page: not ours to read
        return NO_LINK
    if view is None and not query:
        return NO_LINK
    known = tuple(links)
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
    params = {p.name: p for p in links[view]}
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


def section_url_js(section: str, names: Sequence[str]) -> str:
    """A js= function of a section's linked inputs (in the order of `names`), run once the section
    has answered its button: the URL keeps the view's values and adds section=<api name> and
    these, so a copied link opens the same answer. The view's next change writes its own link
    again (without the section: a plain link must not cost a section's work)."""
    return (
        "(...values) => { if (!window.__explorer_ready) return;"
        " const q = new URLSearchParams(location.search); q.set("
        + json.dumps(SECTION)
        + ", "
        + json.dumps(section)
        + ");"
        " const names = " + json.dumps(list(names)) + ";"
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
    """A view's first paint that can also paint a Link: runs the view (and its linked parts: the
    comparison, a section the link names or fills) on the linked inputs, selects the tab and
    writes the notices.

    The linked values reach the page in two steps. Sliders and boxes without a live listener come
    with the answer. Boxes the view listens to (its sentence, the merge checkbox) come in
    `link_values` (JSON by the component's element id), which a JavaScript step then puts in the
    boxes: Gradio runs a change listener with the values its other inputs had *before* the update
    that triggered it, so a sentence set together with layer=3 would recompute the view with
    layer 1. Set one step later, it reruns the view on the same inputs, a hit in the answer
    cache. A slider that such a rerun resets (the decoding step) is re-applied from `pending` by
    the browser.
    declared: the view's Params; params: Param name -> the component it fills
    inputs / outputs: the load event's components; render(link, *values) -> updates by component.
    """

    view: object  # explorer.contract.View
    paint: object  # explorer.contract.FirstPaint
    parts: object  # LinkParts of the tab: its notice line and the hidden link_values box
    tabs: object  # the gr.Tabs holding every view
    owns_bad_links: bool  # the first tab: shows the notice of a link to an unknown view
    links: Mapping = field(default_factory=dict)  # every view's Params by API name, for parse
    declared: tuple = ()  # explorer.contract.Param: the view's and its sections'
    params: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def __post_init__(self):
        linked = list(self.paint.linked)
        self.declared = declared([self.view])[self.view.api_name]
        # A view's parameter fills the input of that name in its tab (or in a comparison); a
        # section's, the input of that name in the section.
        places = {p.name: [self.paint, *(e for e in linked if not e.name)] for p in self.view.links}
        for section in self.view.sections:
            places.update({p.name: [e for e in linked if e.name == section.api_name] for p in section.links})
        for param in self.declared:
            found = [e.components[param.input] for e in places.get(param.name, ()) if param.input in e.components]
            if found:
                self.params[param.name] = found[0]
        self.inputs = _unique([*self.paint.inputs, *(c for extra in linked for c in extra.inputs)])
        shown = [*self.paint.outputs, *(c for extra in linked for c in extra.outputs)]
        holders = [extra.holder for extra in linked if extra.holder is not None]
        direct = [c for c in self.params.values() if c not in shown and not self.listened(c)]
        self.outputs = _unique([*shown, *direct, *holders, self.parts.notice, self.parts.link_values, self.tabs])

    @property
    def name(self) -> str:
        return self.view.api_name

    @property
    def written(self) -> dict:
        """The parameters the URL follows, by name: the view's own inputs. A section's are read
        from a link, not written (a link that fills one opens that section computed, which a
        plain view must not cost)."""
        return {p.name: self.params[p.name] for p in self.view.links if p.name in self.params}

    def listened(self, component) -> bool:
        """True for an input of the view's own paint that is not a slider: the view reruns on its change."""
        return component in self.paint.inputs and not isinstance(component, gr.Slider)

    def filled(self) -> list:
        """The boxes the browser fills one step after the answer (see the class docstring)."""
        return [c for c in self.params.values() if self.listened(c)]

    def render(self, link: Link, *values) -> dict:
        current = dict(zip(self.inputs, values))
        mine = link.view == self.name
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
            for extra in self.paint.linked:
                opened = extra.name and link.values.get(SECTION) == extra.name
                own = extra.components.values() if extra.name else extra.inputs  # a section: its own inputs only
                if opened or any(self.params.get(name) in own for name in link.values):
                    answer.update(extra.fn(*[current[c] for c in extra.inputs]))
                    if extra.holder is not None:
                        answer[extra.holder] = gr.Tabs(selected=extra.name)
            answer[self.tabs] = gr.Tabs(selected=self.name)
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

        # The request comes first: Gradio hands it only to a positional parameter, found by its hint;
        # after the inputs, the event's gr.Progress (the signature below: one parameter per input,
        # then one whose default is a gr.Progress), where a wait for the models at start-up shows
        # (ui.wait_for_models). A direct call passes the request and the values only.
        def first_paint(request: gr.Request, *values):
            progress = None
            if values and isinstance(values[-1], gr.Progress):
                *values, progress = values
            query = dict(request.query_params) if request is not None else {}
            with LIVE.answering(), reporting(progress):
                if not FAST_PATHS:
                    return self.render(parse(query, self.links) if query else NO_LINK, *values)
                if query:
                    return serialized(self.render(parse(query, self.links), *values))
                key = json.dumps(values, default=repr, sort_keys=True)
                if key in stored:
                    return fresh_copy(stored[key])
                answer = serialized(self.render(NO_LINK, *values), self.outputs)
            if not stored:
                stored[key] = answer
            return fresh_copy(answer)

        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        first_paint.__signature__ = inspect.Signature(
            [
                inspect.Parameter("request", positional, annotation=gr.Request),
                *(inspect.Parameter(f"value_{k}", positional) for k in range(len(self.inputs))),
                inspect.Parameter("progress", positional, default=gr.Progress()),
            ]
        )

        return first_paint

    def then_fill(self, event) -> None:
        """Chain the browser's fill of the listened boxes onto an event that ran render(): one box
        per step, each once the page is quiet (the rerun the previous one caused is over), so no
        rerun reads a box the link has not filled yet; then the sliders such a rerun resets."""
        for position, box in enumerate(self.filled()):
            event = event.then(None, [self.parts.link_values, box], [box], js=fill_js(box.elem_id, wait=position > 0))
        for param in self.declared:
            if param.reset and param.name in self.params:
                slider = self.params[param.name]
                event = event.then(None, [slider], [slider], js=pending_js(slider.elem_id))


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


def wire(blocks, tabs, first_paints: list, parts: Mapping[str, LinkParts]) -> dict:
    """Make every first paint link-aware and every linked value write the URL; returns the
    Painter of each view by API name (the Lesson's buttons use them). Call inside `blocks`."""
    api_names = [view.api_name for view, _ in first_paints]
    blocks.load(None, None, None, js=OPENED_JS % json.dumps(api_names))  # before any first paint
    links = declared(view for view, _ in first_paints)
    painters = {}
    for position, (view, paint) in enumerate(first_paints):
        part = parts[view.api_name]
        painter = Painter(view, paint, part, tabs, owns_bad_links=position == 0, links=links)
        painters[view.api_name] = painter
        # First paint: no concurrency limit (a hit in the shared answer cache waits for no model
        # queue); the progress shows on the view's own outputs, not on the boxes a link fills.
        names, linked = list(painter.written), list(painter.written.values())
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
