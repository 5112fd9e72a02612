"""Several replicas of the app behind a real nginx, with the classroom load test pointed at it.

    python bench/replicas.py                          # 2 replicas, one core each, 50 students x 90 s
    python bench/replicas.py --replicas 2 --students 100

Each replica is `python app.py` on its own 127.0.0.1 port with one torch thread, pinned to its
own core (a 2-core machine holds two), measured once its warm-up is done. nginx (Debian's
package) runs deploy/nginx.conf.template: a cookie set on the first answer keeps each student
on one replica (why not ip_hash: the template says). The students are bench/load_test.py's.
Printed: the load test's figures at the proxy, requests per replica from nginx's access log,
students who ever reached two replicas (must be 0), each replica's RSS before and after.
The last line is one JSON object; the exit status is 1 on any error or a student split.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load_test import classroom, cpu_s, pin_process, rss_mb, summary  # noqa: E402
from bench.page_open import wait_for_warm_up  # noqa: E402
from bench.startup import App, child_env, free_port  # noqa: E402

TEMPLATE = REPO / "deploy" / "nginx.conf.template"


def nginx_config(prefix: Path, port: int, backends: list[int]) -> str:
    upstreams = "\n".join(f"        server 127.0.0.1:{b};" for b in backends)
    return TEMPLATE.read_text().format(prefix=prefix, port=port, upstreams=upstreams)


def start_nginx(prefix: Path, port: int, backends: list[int]) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed: apt-get install -y nginx (Debian's package)")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(prefix / sub, 0o777)  # nginx's workers may run as another user than its master
    os.chmod(prefix, 0o755)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(prefix, port, backends))
    check = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
    if check.returncode:
        raise SystemExit(f"nginx rejected {conf}:\n{check.stderr}")
    proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"])
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                if answer.status == 200:
                    return proxy
        except OSError:
            time.sleep(0.2)
    proxy.terminate()
    raise SystemExit(f"nginx did not answer on port {port}: {(prefix / 'error.log').read_text()[-2000:]}")


def routes(access_log: Path) -> tuple[Counter, int, int]:
    """Requests per replica, and how many students (cookies) reached one or more than one replica."""
    per_replica: Counter = Counter()
    replicas_of: dict[str, set[str]] = defaultdict(set)
    for line in access_log.read_text().splitlines():
        *_, upstream, cookie = line.rsplit(" ", 2)
        per_replica[upstream] += 1
        if cookie != "-":
            replicas_of[cookie].add(upstream)
    split = sum(len(r) > 1 for r in replicas_of.values())
    return per_replica, len(replicas_of), split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--ramp", type=float, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    prefix = Path(tempfile.mkdtemp(prefix="replicas-"))
    cpus = sorted(os.sched_getaffinity(0))
    apps = [App(child_env(threads=1), prefix / f"replica-{i}.log") for i in range(args.replicas)]
    proxy = None
    try:
        for i, app in enumerate(apps):
            app.wait()
            pin_process(app.process.pid, {cpus[i % len(cpus)]})
        for app in apps:
            wait_for_warm_up(app)
        port = free_port()
        with socket.socket() as probe:  # the port must still be free for nginx
            probe.bind(("127.0.0.1", port))
        proxy = start_nginx(prefix, port, [app.port for app in apps])
        url = f"http://127.0.0.1:{port}/"
        before: list = []

        def at_measure() -> None:
            (prefix / "access.log").write_text("")  # count the measured part only (nginx appends to the open file)
            before.extend((rss_mb(a.process.pid), cpu_s(a.process.pid)) for a in apps)

        _, tally, elapsed = classroom(
            url, args.students, args.seconds, args.ramp, args.seed, warm_s=max(15.0, args.seconds / 4),
            at_measure=at_measure,
        )  # fmt: skip
        after = [(rss_mb(a.process.pid), cpu_s(a.process.pid)) for a in apps]
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=20)
        for app in apps:
            app.stop()

    per_replica, students_seen, split = routes(prefix / "access.log")
    report = {"replicas": args.replicas, "students": args.students, **summary(tally, elapsed)}
    report["per_replica"] = [
        {"port": app.port, "core": cpus[i % len(cpus)], "requests_at_nginx": per_replica.get(f"127.0.0.1:{app.port}", 0),
         "rss_mb_before": round(b[0]), "rss_mb_after": round(a[0]), "cpu_s": round(a[1] - b[1], 1)}
        for i, (app, b, a) in enumerate(zip(apps, before, after))
    ]  # fmt: skip
    report["students_at_nginx"], report["students_on_two_replicas"] = students_seen, split
    print(f"{args.replicas} replicas behind nginx, {args.students} students, {report['seconds']} s")
    print("| endpoint | requests | p50 s | p95 s |\n|---|---|---|---|")
    for name, e in report["per_endpoint"].items():
        print(f"| {name} | {e['requests']} | {e['p50_s']} | {e['p95_s']} |")
    print(f"| all | {report['requests']} | {report['p50_s']} | {report['p95_s']} |")
    print(f"requests/s {report['requests_per_s']}, errors {report['errors']}")
    for r in report["per_replica"]:
        print(f"replica :{r['port']} on core {r['core']}: {r['requests_at_nginx']} HTTP requests, "
              f"RSS {r['rss_mb_before']} → {r['rss_mb_after']} MB, CPU {r['cpu_s']} s")  # fmt: skip
    print(f"students seen by nginx: {students_seen}, on two replicas: {split} (must be 0)")
    for sample in report["error_samples"]:
        print("error:", sample)
    print(json.dumps({"replicas": report}))
    return 1 if report["errors"] or split else 0


if __name__ == "__main__":
    sys.exit(main())
