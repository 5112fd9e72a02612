"""The model runtime: the one table of the app's models, each loaded once and shared.

    RUNTIME.get("tagger")                       # loads the shared MiniLM first, then the tagger
    RUNTIME.call({"tagger": "tagger"}, fn, x)   # fn(x, tagger=...), rerun on CPU copies after CUDA OOM
    problems()                                  # bundled files that cannot be used, with their fix

Loading is lazy, so the app's page answers before any weights are read, and it runs under
one lock: two first requests arriving together load a model once, and no two threads ever
import torch, transformers or a model module at the same moment (that raised
_DeadlockError / ImportError under load). Each model module imports what it needs at its
top, so after its load a request triggers no import.

    RUNTIME.load_in_background(["encoder", "tagger"])   # the app at start-up: one thread loads them
    RUNTIME.loading()                                   # (3, 9): 3 of the 9 loaded; None once done
    RUNTIME.wait_loaded(0.5)                            # True once the background load is over

torch is imported inside the functions, so `import models.runtime` (and the app) stays light.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors import safe_open

from .cache import ResultCache, budget_mb

REPO = Path(__file__).resolve().parent.parent
log = logging.getLogger("explorer")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One model of the app.

    load: "module:function" (or a function), called as load(device=..., **options, **{need: get(need)})
    needs: other models of this table passed to `load` by keyword (their name is the keyword)
    files: bundled files, relative to the repository, checked before the app serves anyone
    restore: the command that rebuilds `files` when `git checkout` cannot
    package: an installed package that holds the weights (checked like the files)
    card: the model card (markdown, relative to the repository) the model's tabs show
    shape: what the views' sliders and links need before the weights load (layers, heads, the
        decoder's step limit), read from the bundled config (tests/test_view_contract.py checks
        it against the loaded model)
    """

    name: str
    load: str | Callable[..., Any]
    needs: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    restore: str = ""
    package: str = ""
    card: str = ""
    shape: Mapping[str, Any] = field(default_factory=dict)


def bundled_config(path: str) -> dict:
    """The "model" part of a bundled config.json (empty when the file is missing: problems() says so)."""
    try:
        return json.loads((REPO / path).read_text(encoding="utf-8")).get("model", {})
    except (OSError, ValueError):
        return {}


# all-MiniLM-L6-v2's shape (its config.json sits in a zip of the package until first loaded).
MINILM_SHAPE = {"layers": 6, "heads": 12}


def _translator(variant: str) -> ModelSpec:
    folder = f"assets/translator/{variant}"
    config = bundled_config(f"{folder}/config.json")
    return ModelSpec(
        name=f"translator/{variant}",
        load="models.translator:load_translator",
        options={"variant": variant},
        files=tuple(
            f"{folder}/{n}" for n in ("model.safetensors", "config.json", "tokenizer.en.json", "tokenizer.de.json")
        ),
        restore=f"python -m training.train_translator --variant {variant}",
        card=f"{folder}/MODEL_CARD.md",
        shape={"max_length_ratio": config.get("max_length_ratio", 2.0)},
    )


def _transformer() -> ModelSpec:
    folder = "assets/translator/transformer"
    config = bundled_config(f"{folder}/config.json")
    return ModelSpec(
        name="translator/transformer",
        load="models.transformer:load_transformer",
        files=tuple(f"{folder}/{n}" for n in ("model.safetensors", "config.json", "tokenizer.json")),
        restore=f"python -m training.train_transformer (see {folder}/MODEL_CARD.md)",
        card=f"{folder}/MODEL_CARD.md",
        shape={
            "encoder_layers": config.get("encoder_layers", 3),
            "decoder_layers": config.get("decoder_layers", 3),
            "heads": config.get("heads", 4),
            "max_length_ratio": config.get("max_length_ratio", 2.0),
        },
    )


MINILM_CARD = "assets/minilm/MODEL_CARD.md"  # written here: the package ships no card
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        # all-MiniLM-L6-v2, once: the Self-attention view, the tagger's word vectors, NLI's frozen layers.
        ModelSpec(
            name="minilm",
            load="models.minilm:load_minilm",
            package="all_minilm_l6_v2",
            restore="pip install -r requirements.txt",
            card=MINILM_CARD,
        ),
        ModelSpec(
            name="encoder", load="models.encoder:load_encoder", needs=("minilm",), card=MINILM_CARD, shape=MINILM_SHAPE
        ),
        # MiniLM's input word-piece embeddings (the Lesson's one-hot vs embeddings step).
        ModelSpec(name="embeddings", load="models.embeddings:load_embeddings", needs=("minilm",), card=MINILM_CARD),
        ModelSpec(
            name="tagger",
            load="models.tagger:load_tagger",
            needs=("minilm",),
            files=("assets/tagger/model.safetensors", "assets/tagger/config.json", "assets/tagger/vocab.json"),
            restore="python -m training.train_tagger",
            card="assets/tagger/MODEL_CARD.md",
        ),
        _translator("attention"),
        _translator("no_attention"),
        _transformer(),
        # Not trained weights: the mask experiment's corpus, from which the Batch tab trains small taggers.
        ModelSpec(
            name="mask_experiment",
            load="models.mask_experiment:load_experiment",
            files=("assets/mask_experiment/ewt_subset.json",),
            restore="python -m training.mask_data",
            card="assets/mask_experiment/MODEL_CARD.md",
        ),
        ModelSpec(
            name="nli",
            load="models.nli:load_nli",
            needs=("minilm",),
            files=("assets/nli/model.safetensors", "assets/nli/config.json"),
            restore="python -m training.train_nli (see assets/nli/MODEL_CARD.md)",
            card="assets/nli/MODEL_CARD.md",
        ),
    )
}

CPU_RETRY_NOTICE = (
    "The GPU ran out of memory for this request, so it was computed on the CPU instead (slower, same model)."
)


class Runtime:
    """Loads the models of a table once each and hands them to requests.

    The app uses RUNTIME (the table above); tests build their own from fake loaders
    (tests/fakes.py), so no test patches the app's models.
    """

    def __init__(self, specs: Mapping[str, ModelSpec], cache_mb: float | None = None):
        self.specs = dict(specs)
        self._lock = threading.RLock()  # re-entrant: loading the tagger loads MiniLM inside the same lock
        self._loaded: dict[str, Any] = {}
        self._named_encoder: dict[str, Any] = {}
        # Per thread (= per request in Gradio's worker threads): set while a request is retried
        # on the CPU after CUDA ran out of memory, so that request alone gets CPU copies.
        self._request = threading.local()
        self.cache = ResultCache(budget_mb() if cache_mb is None else cache_mb)
        # A background load (load_in_background): the names it loads, in order, and set once it is over.
        self._order: list[str] = []
        self._loaded_in_background = threading.Event()
        self._loaded_in_background.set()

    @contextlib.contextmanager
    def cpu_only(self) -> Iterator[None]:
        """Inside this block, this thread's get() gives CPU copies (loaded once, shared)."""
        before = self.on_cpu()
        self._request.cpu_only = True
        try:
            yield
        finally:
            self._request.cpu_only = before

    def on_cpu(self) -> bool:
        return getattr(self._request, "cpu_only", False)

    def device(self):
        import torch  # not at the top: `import models.runtime` (and the app) stays light (module docstring)

        from .device import pick_device  # imports torch

        return torch.device("cpu") if self.on_cpu() else pick_device()

    def _load(self, spec: ModelSpec) -> Any:
        load = spec.load
        if isinstance(load, str):
            module, function = load.split(":")
            load = getattr(importlib.import_module(module), function)
        return load(device=self.device(), **spec.options, **{need: self.get(need) for need in spec.needs})

    def get(self, name: str) -> Any:
        """The model `name`, loaded on first use (its CPU copy under cpu_only())."""
        if name not in self.specs:
            raise KeyError(f"No model {name!r}; the runtime knows {sorted(self.specs)}.")
        key = f"{name}@cpu" if self.on_cpu() else name
        model = self._loaded.get(key)
        if model is None:
            with self._lock:
                if key not in self._loaded:
                    self._loaded[key] = self._load(self.specs[name])
                model = self._loaded[key]
        return model

    def loaded(self) -> list[str]:
        """Names (name or name@cpu) of the models loaded so far."""
        return sorted(self._loaded)

    def in_order(self, names) -> list[str]:
        """`names` with each model's needs before it (MiniLM before the tagger), each once."""
        order: list[str] = []

        def add(name: str) -> None:
            if name in order:
                return
            if name not in self.specs:
                raise KeyError(f"No model {name!r}; the runtime knows {sorted(self.specs)}.")
            for need in self.specs[name].needs:
                add(need)
            order.append(name)

        for name in names:
            add(name)
        return order

    def load_in_background(self, names, on_loaded: Callable[[str], None] | None = None) -> threading.Thread:
        """Load `names` (and their needs, in_order) one after the other in a thread of its own,
        started now; on_loaded(name) after each. Until it is over, loading() says how far it is. A
        model that fails to load is logged and left to the first request that needs it (which then
        hears why). Returns the thread."""
        order = self.in_order(names)
        self._order = order
        self._loaded_in_background.clear()  # before the thread runs: a request arriving now sees the load

        def load() -> None:
            try:
                for name in order:
                    try:
                        self.get(name)
                    except Exception:  # noqa: BLE001 - the request that needs it will raise it, named
                        log.exception("loading the model %s failed", name)
                    if on_loaded is not None:
                        on_loaded(name)
            finally:
                self._loaded_in_background.set()

        thread = threading.Thread(target=load, name="load-models", daemon=True)
        thread.start()
        return thread

    def loading(self) -> tuple[int, int] | None:
        """(models loaded, models to load) while a background load runs; None when none does."""
        if self._loaded_in_background.is_set():
            return None
        return sum(name in self._loaded for name in self._order), len(self._order)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait (at most `timeout` s) for the background load to be over; True if it is."""
        return self._loaded_in_background.wait(timeout)

    def named_encoder(self, name: str) -> Any:
        """An encoder a user named (a hub id) instead of the bundled one. Only the last named one
        stays loaded, so a stream of different names cannot fill the server's memory; one that
        cannot be had falls back to the shared bundled encoder with a notice (models.encoder)."""
        from .encoder import load_encoder  # imports torch and transformers: not at the top either

        with self._lock:
            if self.on_cpu():  # a rare retry of a rare model: not kept
                return load_encoder(name, device=self.device(), minilm=self.get("minilm"))
            if name not in self._named_encoder:
                self._named_encoder.clear()
                self._named_encoder[name] = load_encoder(name, device=self.device(), minilm=self.get("minilm"))
            return self._named_encoder[name]

    def call(self, needs: Mapping[str, str], fn: Callable, *args, **kwargs) -> tuple[Any, str]:
        """fn(*args, **kwargs, **{keyword: get(model)}) -> (its result, a notice or "").

        If CUDA runs out of memory, the call runs again with CPU copies of its models: only this
        request moves (cpu_only is per thread), the GPU copies keep serving everyone else, and
        the notice says so.
        """
        import torch  # not at the top: `import models.runtime` (and the app) stays light (module docstring)

        def attempt():
            return fn(*args, **kwargs, **{keyword: self.get(model) for keyword, model in needs.items()})

        try:
            return attempt(), ""
        except torch.cuda.OutOfMemoryError:
            log.warning("CUDA out of memory; retrying the request on the CPU")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            with self.cpu_only():
                return attempt(), CPU_RETRY_NOTICE

    def answer(self, needs: Mapping[str, str], fn: Callable, *args) -> tuple[Any, str]:
        """call(), through the shared answer cache when the request can be a key (its inputs
        are hashable: text, numbers, flags; not a previous result held in a session's state).
        An answer with a notice (a CPU retry) is not kept."""
        key = self.key(needs, fn, *args)
        if key is None or not self.cache.budget:
            return self.call(needs, fn, *args)
        return self.cache.get_or_compute(key, lambda: self.call(needs, fn, *args), keep=lambda answer: not answer[1])

    @staticmethod
    def key(needs: Mapping[str, str], fn: Callable, *args) -> tuple | None:
        """What identifies a request: the function, the models it reads, its inputs; None if unhashable."""
        key = (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)), tuple(sorted(needs.items())), args)
        try:
            hash(key)
        except TypeError:
            return None
        return key


RUNTIME = Runtime(MODELS)  # the app's: one copy of each model per process, one answer cache


# -- the health check of the bundled files -------------------------------------------------
def file_problem(path: Path) -> str | None:
    """Why `path` cannot be used (missing, unreadable JSON, a safetensors header that does not
    cover the file), or None. Reads headers only: fast enough for every start."""
    if not path.is_file():
        return "is missing"
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".safetensors":
            with safe_open(str(path), "np") as f:
                if not list(f.keys()):
                    return "holds no tensors"
    except Exception as err:  # noqa: BLE001 - any failure to read is the finding itself
        return f"is damaged ({type(err).__name__}: {str(err)[:160]})"
    return None


def problems(root: Path = REPO) -> list[str]:
    """One line per unusable bundled file or missing weights package, naming it and how to
    restore it; [] when all is well. Models load lazily, so without this a damaged file would
    only show up when some student opens that tab."""
    found = []
    for spec in MODELS.values():
        for name in spec.files:
            why = file_problem(root / name)
            if why:
                found.append(
                    f"{name} {why}. Restore it with `git checkout -- {name}` "
                    f"(or `git lfs pull` in a Space), or rebuild it with `{spec.restore}`."
                )
        if spec.package and importlib.util.find_spec(spec.package) is None:
            found.append(
                f"The package {spec.package} (model {spec.name!r}) is not installed. Restore it with `{spec.restore}`."
            )
    return found
