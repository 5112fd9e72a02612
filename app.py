"""Sequence-model explorer: see inside the models that read sentences.

python app.py        # http://127.0.0.1:7860

What must happen before gradio and torch are imported comes first (environment, malloc arenas,
the port check), then the page: one tab per view of explorer.VIEWS; then the launch.
"""

import ctypes
import ctypes.util

# The modules that both the launch (uvicorn) and the models' loading thread (torch) import, read
# from sys.modules: imported here, once, so that the two threads never import the same module at
# once (two threads in one module's import cycle can deadlock: app.start_loading).
import multiprocessing.connection  # noqa: F401
import multiprocessing.pool  # noqa: F401
import multiprocessing.queues  # noqa: F401
import multiprocessing.resource_sharer  # noqa: F401
import multiprocessing.resource_tracker  # noqa: F401
import multiprocessing.spawn  # noqa: F401
import multiprocessing.synchronize  # noqa: F401
import os
import platform
import socket
import threading
import time

STARTED = time.perf_counter()  # the warm-up's lines give their times from here (bench/startup.py reads them)

# Before gradio is imported: no usage analytics, and the hub is never asked for anything
# the user did not name.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Gradio's queue re-summarizes its per-event timings (a pandas table of up to 10,000 events, for
# its monitoring page, which this app does not use) after every event by default: 15 % of the
# server's CPU under a class of 50 (py-spy, measured). Once per 1,000 events, over the last 1,000.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
# One torch thread per forward (torch reads this when it is first imported): under a class the
# requests already keep both cores busy, and two threads per small forward cost 8 % more CPU per
# answer for no shorter wait (bench/load_test.py, 100 students; explorer/web/serving.py has the table).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# glibc gives each thread that allocates at once a malloc arena of its own (up to 8 per core),
# and memory freed into one arena is not reused by the others: under a class, Gradio's worker
# threads running torch on sentences of every length grew the server by 10 MB per 10 s without
# end (850 -> 945 MB in 90 s). Two arenas leveled it off (+5 %, measured), at no measured cost in
# latency. MALLOC_ARENA_MAX in the environment overrides this.
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (mallopt M_ARENA_MAX) before the server's threads start; returns
    whether it was set (not on other C libraries, nor when MALLOC_ARENA_MAX is already given)."""
    if os.environ.get("MALLOC_ARENA_MAX") or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    M_ARENA_MAX = -8  # from glibc's malloc.h
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def launch_settings() -> dict:
    """Keyword arguments for demo.launch(): local only unless GRADIO_SERVER_NAME says otherwise,
    no share link, no extra readable paths (bertviz's scripts are registered by name)."""
    port = os.environ.get("GRADIO_SERVER_PORT", "7860").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"GRADIO_SERVER_PORT={port!r} is not a port number (1-65535), e.g. GRADIO_SERVER_PORT=7861.")
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(port),
        "share": False,
        "allowed_paths": [],
    }


def port_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on host:port (one line naming the variable that changes it), or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            return (
                f"Port {port} on {host} is taken (another `python app.py`?) or not allowed ({err.strerror}). "
                f"Stop the other server, or choose another port: GRADIO_SERVER_PORT={port + 1} python app.py"
            )
    return None


# Here, not in explorer/web/serving.py: importing any module of explorer/ imports gradio (its views do).
if __name__ == "__main__":  # gradio reads GRADIO_SERVER_PORT when imported: check it first, in one line
    limit_malloc_arenas()  # before torch and gradio start their threads (why: MALLOC_ARENAS above)

    try:
        launch_settings()
    except ValueError as err:
        raise SystemExit(f"Cannot start: {err}") from None

import gradio as gr  # noqa: E402

from explorer import VIEWS  # noqa: E402
from explorer.views import lesson  # noqa: E402
from explorer.web import deep_links, gradio_internals, model_cards, ui  # noqa: E402
from explorer.web.page import PAGE_CSS  # noqa: E402
from explorer.web.serving import CONCURRENCY_PER_VIEW, QUEUE_MAX_SIZE, load_models, model_names, warm_up  # noqa: E402
from models.runtime import RUNTIME, problems  # noqa: E402


def ping() -> str:
    """Does nothing: `python -m bench` compares each view's API round trip with this one's."""
    return "pong"


def build_demo(views=VIEWS, runtime=RUNTIME) -> gr.Blocks:
    """One tab and one endpoint /<api_name> per view, in the order of `views`."""
    # delete_cache: every hour, drop served files (exports) older than an hour, so a busy day
    # does not fill the disk.
    with gr.Blocks(title="Sequence-model explorer", delete_cache=(3600, 3600)) as blocks:
        gr.Markdown("# Sequence-model explorer\nSee inside small pretrained sequence models, live on your own text.")
        first_paints, parts = [], {}
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # on a phone every tab name stays in sight
            for view in views:
                with gr.Tab(view.title, id=view.api_name) as tab:
                    parts[view.api_name] = deep_links.link_row(view.api_name, tab)
                    first_paints.append((view, view.build(view, runtime)))
                    model_cards.accordion(view.models.values())
        # First paint: each view renders its default input once the page has opened, or the
        # input a deep link names (explorer/web/deep_links.py). Every visitor asks the same defaults,
        # so they come from the shared answer cache (filled by warm_up).
        painters = deep_links.wire(blocks, tabs, first_paints, parts)
        lesson.wire_steps(blocks, painters)
        gr.api(ping, api_name="ping", api_visibility="undocumented")
        ui.strict_inputs(blocks)  # wrong types and ranges answer a line naming the input
    blocks.queue(default_concurrency_limit=CONCURRENCY_PER_VIEW, max_size=QUEUE_MAX_SIZE)
    blocks.first_paints = first_paints  # for warm_up
    blocks.painters = painters  # each view's link-aware first paint, by API name (tests read links through it)
    return blocks


# The page answers once the models are loaded, or after this many seconds (a slow machine): then
# a request that needs them waits, and its outputs say "Loading the models (n of N)…".
MODELS_BEFORE_PAGE_S = 20.0


def start_loading(runtime=RUNTIME, views=VIEWS) -> None:
    """Load the models in a thread of their own from now, while the page is built; the launch
    waits for them (at most MODELS_BEFORE_PAGE_S). Why wait: a class on a waking Space asks for
    them the moment the page answers, and a page that answered first (2.9 s) left the load to
    compete with fifty page opens: models in at 9.4 s instead of 6.1, first answers waiting up to
    6 s, p95 3.0 s over the first 30 s instead of 0.2 (bench/load_test.py --cold; README "Serving a
    classroom"). Until the load is over, a request that needs them waits, and says so
    (explorer/web/ui.wait_for_models): no request's code imports beside the loading thread."""
    load_models(runtime, model_names(views), STARTED)


if __name__ == "__main__":
    if found := problems():  # a damaged weight file stops the start, named, instead of failing one tab later
        raise SystemExit("Cannot start: bundled model files are not usable.\n  " + "\n  ".join(found))
    settings = launch_settings()
    if busy := port_problem(settings["server_name"], settings["server_port"]):  # one line, not Gradio's traceback
        raise SystemExit(f"Cannot start: {busy}")
    start_loading()

demo = build_demo()

if __name__ == "__main__":
    RUNTIME.wait_loaded(MODELS_BEFORE_PAGE_S)
    gradio_internals.announce()  # one line when the fast paths are off, saying why
    demo.launch(**settings, css=PAGE_CSS, app_kwargs=gradio_internals.app_kwargs(), prevent_thread_lock=True)
    gradio_internals.reuse_block_configs(demo)  # after launch: the page's config is built (why: there)
    # After the page answers: one thread waits for the models, then computes every first paint and
    # example once, in the order a class asks, stepping aside while people's requests are answered;
    # a request for an answer it is computing waits for that answer instead of racing it.
    warming = threading.Thread(target=warm_up, args=(demo.first_paints, RUNTIME, STARTED), name="warm-up", daemon=True)
    warming.start()
    demo.block_thread()
