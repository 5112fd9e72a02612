"""A classroom hitting one server: students with think time, or a closed loop of clients.

    python bench/load_test.py                         # classroom: 50 students x 90 s, page opens vs a bare page
    python bench/load_test.py --students 100          # the same at 100 students
    python bench/load_test.py --cores 1 --students 30 # the server pinned to one core (capacity per core)
    python bench/load_test.py --short                 # 6 students x 20 s, no browser (CI runs this)
    python bench/load_test.py --trainers 0            # no student trains the mask experiment
    python bench/load_test.py --closed-loop --students 50 --seconds 60   # each client calls again at once
    python bench/load_test.py --cold                  # the class arrives the moment the page answers

Classroom mode (bench/classroom.py): `python app.py` starts on a free 127.0.0.1 port and is
measured once its warm-up is done. Students join at random times over a 15 s ramp, one
gradio_client session each; 70 % type the sentence on the board (each view's example), 30 %
their own (a new sentence each time); each goes through the views' endpoints in turn from a
view of their own, waits for the answer, thinks 2-6 s (uniform) and asks again, until the time is up. The first quarter
of the time (at least 15 s, the ramp in it) is a warm phase, tallied apart: "before" (RSS, CPU) is
taken when the measured part begins, with the same students and sessions going on.
Then, on the same idle server, real Chromium page opens: the server CPU seconds one more
visit costs, against a bare five-tab Gradio page (bench/bare_page.py) measured in the same run.

Of the class, `--trainers` students (3 by default, 1 in --short) train the Batch tab's mask
experiment instead (/batch_training with a seed of their own and 60-150 steps: a new training
each time, queued one at a time on the server), think 5-15 s and train again. Their answers are
tallied apart (they wait for a training by design); the goals are the other endpoints' latency
while those trainings run.

Printed: requests, errors, p50/p95 latency per endpoint and overall, requests/s, the server's
RSS before and after and its CPU seconds, the page-open costs. The last line is one JSON
object; the exit status is 1 when any request failed or RSS grew by 10 % or more.

Cold mode (`--cold`), a class on a Space that was asleep: the same students begin the moment
the page first answers (no warm phase, no page-open measurement), while the app still loads its
models and warms its answers. Printed: p50/p95 per endpoint for the first 30 s and for the whole
run, p95 per 10 s since the page answered, errors, and the start-up timeline from the process
start: the page answers, every model loaded, every first paint cached, the warm-up done (the
lines the app writes as it warms; bench/startup.py MILESTONES). Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from gradio_client import Client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script: `bench` is importable from the repository root

from bench.classroom import board_inputs, own_inputs  # noqa: E402
from bench.page_open import visit_costs, wait_for_warm_up  # noqa: E402
from bench.startup import App, Timeline, child_env  # noqa: E402 (the same app starter as python -m bench)
from explorer.core.plural import plural  # noqa: E402

RSS_GROWTH_LIMIT = 0.10
OWN_SHARE = 0.3  # students who type their own sentences; the others copy the board
THINK_S = (2.0, 6.0)
RAMP_S = 15.0
GOALS = {"p95_s": 2.0, "endpoint_p95_s": 4.0, "page_open_ratio": 1.5, "rss_growth": RSS_GROWTH_LIMIT}
FIRST_S = 30.0  # cold mode: the first window, the class arriving while the app warms up
WINDOW_S = 10.0  # cold mode: p95 per window of this many seconds since the page answered


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def refusal(out) -> str | None:
    """A batched endpoint answers a failed request in its status output instead of raising."""
    for v in out if isinstance(out, tuple) else (out,):
        if isinstance(v, str) and v.startswith("⚠️"):
            return v
    return None


class RssMonitor:
    """The server's RSS every 10 s, from now until stop(): whether memory levels off or keeps growing."""

    def __init__(self, pid: int, every_s: float = 10.0):
        self.samples: list[int] = []
        self._done = threading.Event()

        def sample() -> None:
            while not self._done.wait(every_s):
                self.samples.append(round(rss_mb(pid)))

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()

    def stop(self) -> list[int]:
        self._done.set()
        self._thread.join()
        return self.samples


class HttpClient:
    """A student's browser, as light as one: Gradio's HTTP API (POST /gradio_api/call/<name>, then
    read the answer's server-sent events), one blocking connection, no polling.

    Why not gradio_client: its sessions poll for answers, and 50 of them in one process took a
    whole core of this 2-core machine (40.8 CPU s in 45.6 s, measured), which a real class's
    browsers, each on its own laptop, do not take from the server. `--gradio-client` uses it anyway.
    """

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(300, connect=30))
        # One session per student, as one browser tab is: Gradio keeps a session's gr.State
        # (a view's last result) once per session, not once per request.
        self.session_hash = uuid.uuid4().hex[:11]
        # The page itself first, as a browser opens it: behind a proxy (bench/replicas.py) this
        # answer sets the cookie that keeps the student on one replica (httpx keeps cookies).
        self.http.get("/").raise_for_status()

    def predict(self, *args, api_name: str):
        name = api_name.lstrip("/")
        posted = self.http.post(
            f"/gradio_api/call/{name}", json={"data": list(args), "session_hash": self.session_hash}
        )
        posted.raise_for_status()
        event, data = None, None
        with self.http.stream("GET", f"/gradio_api/call/{name}/{posted.json()['event_id']}") as answer:
            for line in answer.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line.split(":", 1)[1].strip()
                    break
        if event != "complete":
            raise RuntimeError(f"{event}: {data}")
        return tuple(json.loads(data))


def connect(url: str, gradio_client: bool):
    if gradio_client:
        return Client(url, verbose=False)
    return HttpClient(url)


class Tally:
    """Latencies per endpoint and errors, from many student threads."""

    def __init__(self, names):
        self.latencies: dict[str, list[float]] = {name: [] for name in names}
        self.asked: list[tuple[float, float]] = []  # (time.time() when sent, latency) of each answer
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def ask(self, client, name: str, args: list) -> None:
        sent, t0 = time.time(), time.perf_counter()
        try:
            problem = refusal(client.predict(*args, api_name=name))
            if problem:
                raise RuntimeError(problem)
        except Exception as err:  # noqa: BLE001 - counted, not raised: the run must finish
            with self.lock:
                self.errors.append(f"{name}: {type(err).__name__}: {str(err)[:200]}")
            return
        with self.lock:
            self.latencies[name].append(time.perf_counter() - t0)
            self.asked.append((sent, self.latencies[name][-1]))

    def merged(self, other: Tally) -> Tally:
        """This tally and `other` as one (the cold mode's whole run: its first window and the rest)."""
        both = Tally(self.latencies)
        for name in both.latencies:
            both.latencies[name] = self.latencies[name] + other.latencies.get(name, [])
        both.asked, both.errors = self.asked + other.asked, self.errors + other.errors
        return both


def classroom(
    url: str,
    students: int,
    seconds: float,
    ramp: float,
    seed: int,
    gradio_client: bool = False,
    warm_s: float = 0.0,
    at_measure=None,
    trainers: int = 0,
    trainings: Tally | None = None,
) -> tuple[Tally, Tally, float]:
    """`students` threads, each one student as the module docstring says, for warm_s + seconds.

    The same students (and sessions) go on from the warm phase into the measured one, as a class
    does: requests sent in the first warm_s seconds are tallied apart, and at_measure() is called
    when the measured part begins. Returns the warm tally, the measured tally and the measured
    seconds (to the last answer). The first `trainers` students train instead (module docstring),
    tallied in `trainings` (warm phase included)."""
    from explorer import VIEWS  # not at the top: `--help` answers without importing gradio (3 s)

    names = [f"/{v.api_name}" for v in VIEWS]
    warm, measured = Tally(names), Tally(names)
    start = time.time()
    measure_at, stop_at = start + warm_s, start + warm_s + seconds

    training = next(s for v in VIEWS for s in v.sections if s.api_name == "batch_training")

    def trainer(client, rng: random.Random) -> None:
        while time.time() < stop_at:
            own = {**training.examples[0], "steps": rng.choice((60, 100, 150)), "seed": rng.randint(1, 10_000)}
            trainings.ask(client, f"/{training.api_name}", training.api_args(own))
            time.sleep(rng.uniform(5.0, 15.0))

    def student(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        own = index % 10 < OWN_SHARE * 10  # 3 in every 10 students
        time.sleep(rng.uniform(0, ramp))
        try:
            client = connect(url, gradio_client)
        except Exception as err:  # noqa: BLE001 - a student who cannot open the page is an error
            with measured.lock:
                measured.errors.append(f"connect: {type(err).__name__}: {str(err)[:200]}")
            return
        if index < trainers:
            trainer(client, rng)
            return
        asked = 0
        while time.time() < stop_at:
            # Each student goes through the tabs in turn from a tab of their own: every endpoint is
            # asked about equally, even in a short run (a random choice left one unasked at times).
            view = VIEWS[(index + asked) % len(VIEWS)]
            asked += 1
            lesson_step = int((time.time() - start) // 30)  # the board changes every 30 s
            inputs = own_inputs(view, rng) if own else board_inputs(view, lesson_step)
            (warm if time.time() < measure_at else measured).ask(client, f"/{view.api_name}", view.api_args(inputs))
            time.sleep(rng.uniform(*THINK_S))

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(students)]
    for t in threads:
        t.start()
    if at_measure is not None:
        time.sleep(max(0.0, measure_at - time.time()))
        at_measure()
    for t in threads:
        t.join(timeout=warm_s + seconds + ramp + 300)
    return warm, measured, time.time() - max(measure_at, start)


def closed_loop(url: str, clients: int, seconds: float, gradio_client: bool = False) -> tuple[Tally, float]:
    """Each client calls the endpoints in turn with their first two examples, with no pause."""
    from explorer import VIEWS  # not at the top: `--help` answers without importing gradio (3 s)

    tally = Tally([f"/{v.api_name}" for v in VIEWS])
    with ThreadPoolExecutor(max_workers=min(clients, 16)) as pool:
        sessions = list(pool.map(lambda _: connect(url, gradio_client), range(clients)))
    start = time.time()

    def client_loop(index: int) -> None:
        step = index
        while time.time() < start + seconds:
            view = VIEWS[step % len(VIEWS)]
            tally.ask(sessions[index], f"/{view.api_name}", view.api_args(board_inputs(view, step // len(VIEWS))))
            step += 1

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    return tally, time.time() - start


def summary(tally: Tally, elapsed: float) -> dict:
    every = [x for values in tally.latencies.values() for x in values]
    return {
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "requests_per_s": round(len(every) / elapsed, 2),
        "p50_s": round(percentile(every, 0.5), 3),
        "p95_s": round(percentile(every, 0.95), 3),
        "per_endpoint": {
            name: {"requests": len(v), "p50_s": round(percentile(v, 0.5), 3), "p95_s": round(percentile(v, 0.95), 3)}
            for name, v in tally.latencies.items()
        },
    }


def pin_process(pid: int, cpus: set[int]) -> None:
    """Run a process, every thread of it, on these CPUs (threads started before the pin keep their mask)."""
    for thread in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(thread.name), cpus)


def pin(pid: int, cores: int) -> set[int]:
    """Pin the server to its first `cores` CPUs, and this process (the students) to the others if any."""
    every = sorted(os.sched_getaffinity(0))
    server = set(every[:cores])
    pin_process(pid, server)
    if len(every) > cores:
        os.sched_setaffinity(0, set(every[cores:]))
    return server


def run(args) -> dict:
    env = {**child_env(threads=args.threads), "EXPLORER_BATCHING": "0" if args.batching == "off" else "1"}
    if args.concurrency:
        env["EXPLORER_CONCURRENCY"] = str(args.concurrency)
    if args.cores:
        env["OMP_NUM_THREADS"] = str(args.cores)  # torch: one intra-op thread per core it may use
    log = Path(tempfile.mkdtemp(prefix="load-test-")) / "app.log"
    app = App(env, log)
    report: dict = {"mode": "closed loop" if args.closed_loop else "classroom", "students": args.students,
                    "batching": args.batching, "threads": args.threads or None, "concurrency": args.concurrency or None, "cores": args.cores or None,
                    "client": "gradio_client" if args.gradio_client else "http"}  # fmt: skip
    try:
        app.wait()
        if args.cores:
            report["server_cpus"] = sorted(pin(app.process.pid, args.cores))
        wait_for_warm_up(app)
        report["rss_mb_at_start"] = round(rss_mb(app.process.pid))
        before: dict = {}
        trainings = Tally(["/batch_training"])

        def at_measure() -> None:
            before.update(rss=rss_mb(app.process.pid), cpu=cpu_s(app.process.pid), students_cpu=time.process_time(),
                          load=os.getloadavg()[0], monitor=RssMonitor(app.process.pid))  # fmt: skip

        if args.closed_loop:
            at_measure()
            warm, (tally, elapsed) = Tally([]), closed_loop(app.url, args.students, args.seconds, args.gradio_client)
        else:
            # A warm phase of the same class first (a quarter of the time, at least 15 s, the ramp in
            # it): "before" is a server whose buffers, thread pools and sessions have grown to this
            # class; growth after it is what a longer lesson adds.
            warm, tally, elapsed = classroom(
                app.url, args.students, args.seconds, args.ramp, args.seed, args.gradio_client,
                warm_s=max(15.0, args.seconds / 4), at_measure=at_measure, trainers=args.trainers, trainings=trainings,
            )  # fmt: skip
        rss_before, cpu_before, students_cpu_before = before["rss"], before["cpu"], before["students_cpu"]
        load_before, monitor = before["load"], before["monitor"]
        rss_after, cpu_after = rss_mb(app.process.pid), cpu_s(app.process.pid)
        students_cpu = time.process_time() - students_cpu_before
        report["rss_mb_every_10_s"] = monitor.stop()
        tally.errors = warm.errors + trainings.errors + tally.errors
        report.update(summary(tally, elapsed))
        if args.trainers and not args.closed_loop:
            done = trainings.latencies["/batch_training"]
            report["trainings"] = {"students": args.trainers, "requests": len(done), "errors": len(trainings.errors),
                                   "p50_s": round(percentile(done, 0.5), 1), "max_s": round(max(done, default=0), 1)}  # fmt: skip
        report.update(
            rss_mb_before=round(rss_before),
            rss_mb_after=round(rss_after),
            rss_growth=round(rss_after / rss_before - 1, 4),
            server_cpu_s=round(cpu_after - cpu_before, 1),
            # The students' gradio_client threads run on the same machine: their CPU is not the server's.
            students_cpu_s=round(students_cpu, 1),
            load_average_before_after=[round(load_before, 2), round(os.getloadavg()[0], 2)],
        )
        report["requests_per_server_cpu_s"] = round(report["requests"] / max(report["server_cpu_s"], 1e-9), 2)
        if args.page_open:
            report["page_open_app_s"] = visit_costs(app, "app.py", args.page_open)
    finally:
        app.stop()
    if args.page_open:
        bare = App(child_env(), log.with_name("bare.log"), "bench/bare_page.py")
        try:
            bare.wait()
            report["page_open_bare_s"] = visit_costs(bare, "bench/bare_page.py", args.page_open)
        finally:
            bare.stop()
        app_s, bare_s = (sorted(report[k])[len(report[k]) // 2] for k in ("page_open_app_s", "page_open_bare_s"))
        report["page_open_ratio"] = round(app_s / bare_s, 2)
    return report


def run_cold(args) -> dict:
    """Cold mode (module docstring): start the app, and the class the moment its page answers."""
    env = {**child_env(threads=args.threads), "EXPLORER_BATCHING": "0" if args.batching == "off" else "1"}
    if args.concurrency:
        env["EXPLORER_CONCURRENCY"] = str(args.concurrency)
    log = Path(tempfile.mkdtemp(prefix="load-test-cold-")) / "app.log"
    app = App(env, log)
    timeline = Timeline(app)
    report: dict = {"mode": "cold classroom", "students": args.students, "batching": args.batching,
                    "client": "gradio_client" if args.gradio_client else "http", "log": str(log)}  # fmt: skip
    trainings = Tally(["/batch_training"])
    try:
        page_s = app.wait()
        answered, students_cpu = time.time(), time.process_time()
        first, rest, _ = classroom(
            app.url, args.students, max(0.0, args.seconds - FIRST_S), args.ramp, args.seed, args.gradio_client,
            warm_s=min(FIRST_S, args.seconds), trainers=args.trainers, trainings=trainings,
        )  # fmt: skip
        elapsed = max([sent + latency for sent, latency in first.asked + rest.asked], default=time.time()) - answered
        report["rss_mb_after"] = round(rss_mb(app.process.pid))
        report["server_cpu_s"] = round(cpu_s(app.process.pid), 1)
        # The students' clients run on the same machine: their CPU is not the server's.
        report["students_cpu_s"] = round(time.process_time() - students_cpu, 1)
        report["load_average_after"] = round(os.getloadavg()[0], 2)
    finally:
        seen = timeline.stop()
        app.stop()
    report["timeline_s"] = {"page answers": round(page_s, 2), **seen}
    whole = first.merged(rest)
    whole.errors += trainings.errors
    report["first_30_s"] = summary(first, min(FIRST_S, elapsed))
    report.update(summary(whole, elapsed))
    windows: dict[int, list[float]] = {}
    for sent, latency in whole.asked:
        windows.setdefault(int((sent - answered) // WINDOW_S), []).append(latency)
    report["p95_by_10_s"] = [
        round(percentile(windows.get(k, []), 0.95), 3) for k in range(int(elapsed // WINDOW_S) + 1)
    ]
    done = trainings.latencies["/batch_training"]
    report["trainings"] = {"students": args.trainers, "requests": len(done), "errors": len(trainings.errors),
                           "p50_s": round(percentile(done, 0.5), 1), "max_s": round(max(done, default=0), 1)}  # fmt: skip
    return report


def cold_table(r: dict) -> str:
    """The cold mode's printout: both windows side by side, the timeline, the goals."""
    first = r["first_30_s"]
    lines = [
        f"{r['mode']}: {r['students']} students from the moment the page answered, {r['seconds']} s, "
        f"batching {r['batching']}",
        "",
        f"| endpoint | first {FIRST_S:.0f} s: requests | p50 s | p95 s | whole run: requests | p50 s | p95 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in r["per_endpoint"].items():
        f = first["per_endpoint"][name]
        lines.append(
            f"| {name} | {f['requests']} | {f['p50_s']} | {f['p95_s']} | {e['requests']} | {e['p50_s']} | {e['p95_s']} |"
        )
    lines.append(
        f"| all | {first['requests']} | {first['p50_s']} | {first['p95_s']} | {r['requests']} | {r['p50_s']} | {r['p95_s']} |"
    )
    timeline = ", ".join(f"{name} {'—' if s is None else f'{s} s'}" for name, s in r["timeline_s"].items())
    t = r["trainings"]
    lines += [
        "",
        f"from the process start: {timeline}",
        f"p95 per {WINDOW_S:.0f} s since the page answered: {r['p95_by_10_s']}",
        f"errors {r['errors']}, requests/s {r['requests_per_s']}, RSS after {r['rss_mb_after']} MB, "
        f"server CPU {r['server_cpu_s']} s since its start, the students' clients {r['students_cpu_s']} CPU s, "
        f"load average at the end {r['load_average_after']}",
        f"meanwhile {plural(t['students'], 'student')} trained the mask experiment: {t['requests']} trainings "
        f"answered (p50 {t['p50_s']} s, longest {t['max_s']} s), {t['errors']} refused or failed",
        "",
        f"errors: {r['errors']} (goal 0)",
    ]
    for label, window in ((f"first {FIRST_S:.0f} s", first), ("whole run", r)):
        slowest = max(window["per_endpoint"].items(), key=lambda item: item[1]["p95_s"])
        lines.append(
            f"{label}: p95 {window['p95_s']} s (goal <= {GOALS['p95_s']}), slowest endpoint {slowest[0]} "
            f"p95 {slowest[1]['p95_s']} s (goal <= {GOALS['endpoint_p95_s']})"
        )
    return "\n".join(lines)


def verdicts(r: dict) -> list[str]:
    """Each goal of the classroom mode, met or not."""
    lines = [
        f"errors: {r['errors']} (goal 0)",
        f"overall p95: {r['p95_s']} s (goal <= {GOALS['p95_s']})",
        *(f"{name} p95: {e['p95_s']} s (goal <= {GOALS['endpoint_p95_s']})" for name, e in r["per_endpoint"].items()),
        f"RSS growth: {r['rss_growth']:+.1%} (goal < {GOALS['rss_growth']:.0%})",
    ]
    if "page_open_ratio" in r:
        lines.append(f"page open / bare page: {r['page_open_ratio']} (goal <= {GOALS['page_open_ratio']})")
    return lines


def table(r: dict) -> str:
    lines = [
        f"{r['mode']}: {r['students']} students, {r['seconds']} s, batching {r['batching']}, "
        f"cores {r.get('server_cpus') or 'all'}",
        "",
        "| endpoint | requests | p50 s | p95 s |",
        "|---|---|---|---|",
    ]
    for name, e in r["per_endpoint"].items():
        lines.append(f"| {name} | {e['requests']} | {e['p50_s']} | {e['p95_s']} |")
    lines.append(f"| all | {r['requests']} | {r['p50_s']} | {r['p95_s']} |")
    lines += [
        "",
        f"requests/s {r['requests_per_s']}, errors {r['errors']}, RSS {r['rss_mb_before']} → {r['rss_mb_after']} MB "
        f"({r['rss_growth']:+.1%}), server CPU {r['server_cpu_s']} s ({r['requests_per_server_cpu_s']} requests "
        f"per CPU second); the students' clients used {r['students_cpu_s']} CPU s; load average "
        f"{r['load_average_before_after'][0]} → {r['load_average_before_after'][1]}",
        f"RSS every 10 s (MB): {r['rss_mb_every_10_s']}",
    ]
    if "trainings" in r:
        t = r["trainings"]
        lines.append(
            f"meanwhile {plural(t['students'], 'student')} trained the mask experiment: {t['requests']} trainings answered "
            f"(p50 {t['p50_s']} s, longest {t['max_s']} s, queue included), {t['errors']} refused or failed"
        )
    if "page_open_ratio" in r:
        lines.append(
            f"page open, server CPU s: app {r['page_open_app_s']} vs bare page {r['page_open_bare_s']} "
            f"(median ratio {r['page_open_ratio']})"
        )
    return "\n".join(lines + [""] + verdicts(r))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", "--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--ramp", type=float, default=RAMP_S, help="students join over this many seconds")
    parser.add_argument("--batching", choices=("on", "off"), default="on")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads in the app (0: its default)")
    parser.add_argument("--concurrency", type=int, default=0, help="requests at once per event (0: the app's)")
    parser.add_argument("--cores", type=int, default=0, help="pin the server to this many CPUs (0: all)")
    parser.add_argument("--page-open", type=int, default=3, help="measured Chromium visits of each page (0: none)")
    parser.add_argument("--closed-loop", action="store_true", help="no think time: each client calls again at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gradio-client", action="store_true", help="students as gradio_client sessions (heavier)")
    parser.add_argument("--trainers", type=int, default=3, help="students who train the mask experiment (see above)")
    parser.add_argument("--short", action="store_true", help="6 students for 20 s, 3 s ramp, no browser (CI)")
    parser.add_argument("--cold", action="store_true", help="the class begins the moment the page answers (above)")
    args = parser.parse_args(argv)
    if args.short:
        args.students, args.seconds, args.ramp, args.page_open = 6, 20, 3, 0
        args.trainers = min(args.trainers, 1)
    if args.cold:
        report = run_cold(args)
        print(cold_table(report))
        for sample in report["error_samples"]:
            print("error:", sample)
        print(json.dumps({"load_test": report, "cpu_count": os.cpu_count()}))
        return 1 if report["errors"] else 0
    report = run(args)
    print(table(report))
    for sample in report["error_samples"]:
        print("error:", sample)
    print(json.dumps({"load_test": report, "cpu_count": os.cpu_count()}))
    return 1 if report["errors"] or report["rss_growth"] >= RSS_GROWTH_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
