"""The goals each figure is held to, and the readable table of figures, goals and gaps."""

from __future__ import annotations

VIEW_OVERHEAD = 1.3  # view / bare model forward
ROUND_TRIP = 1.3  # HTTP round trip / (ping round trip + in-process time)
COLD_START = 1.0  # python app.py until the page answers / import torch, gradio, transformers
PAYLOAD = 0.2  # bytes of the default self-attention view / bertviz head_view HTML
RSS_MB = 1000.0  # resident memory with all five views' models loaded, MB (10^6 bytes)
HEAD_IMPORTANCE_S = 2.0  # the 72-head ablation table for a pair of 20-piece sentences, seconds


def _goal(name: str, value: float, goal: float) -> dict:
    row = {"figure": name, "value": value, "goal": goal, "met": value <= goal}
    if value > goal:
        row["gap"] = value - goal
    return row


def check(figures: dict) -> list[dict]:
    """One row per figure that has a goal: {"figure", "value", "goal", "met"[, "gap" = value - goal]}."""
    rows = [_goal(f"view overhead {key}", v["overhead"], VIEW_OVERHEAD) for key, v in figures.get("views", {}).items()]
    for key, v in figures.get("inside", {}).items():  # issue 14's analyses (bench/inside.py)
        rows.append(_goal(f"analysis overhead {key}", v["overhead"], VIEW_OVERHEAD))
        if key.startswith("self_attention_head_importance/"):
            rows.append(_goal(f"seconds {key}", v["analysis_ms"] / 1000, HEAD_IMPORTANCE_S))
    if "cold_start" not in figures:  # python -m bench --only inside
        return rows
    rows += [
        _goal(f"round trip {key}", v["ratio"], ROUND_TRIP)
        for key, v in figures.get("round_trips", {}).items()
        if isinstance(v, dict)
    ]
    rows.append(_goal("cold start", figures["cold_start"]["ratio"], COLD_START))
    rows += [_goal(f"payload self_attention/{size}", v["ratio"], PAYLOAD) for size, v in figures["payload"].items()]
    memory = figures["memory"]
    rows.append(
        _goal(
            "RSS app (MB)" if "rss_app_mb" in memory else "RSS bench process (MB)",
            memory.get("rss_app_mb", memory["rss_bench_mb"]),
            RSS_MB,
        )
    )
    return rows


def table(report: dict) -> str:
    """The figures as aligned text: what was measured, against what, the ratio, the goal and the gap."""
    f = report["figures"]
    m = report["machine"]
    lines = [
        f"{m['cpu']} ({m['cpu_count']} cores), torch threads {m['torch_threads']}, device {m['device']}, "
        f"torch {m['torch']}, gradio {m['gradio']}, {m['date']}",
        "",
    ]
    goal_of = {row["figure"]: row for row in report["goals"]}

    def row(name, measured, against, ratio, key=None):
        g = goal_of.get(key or name)
        goal = f"<= {g['goal']:g}" if g else ""
        gap = ("met" if g["met"] else f"gap {g['gap']:.2f}") if g else ""
        lines.append(f"{name:34s} {measured:>14s} {against:>22s} {ratio:>8s} {goal:>8s}  {gap}")

    lines.append(f"{'figure':34s} {'measured':>14s} {'against':>22s} {'ratio':>8s} {'goal':>8s}  gap")
    for key, v in f.get("views", {}).items():
        row(f"view overhead {key}", f"{v['view_ms']:.1f} ms", f"floor {v['floor_ms']:.1f} ms", f"{v['overhead']:.2f}")
    for key, v in f.get("inside", {}).items():
        name = f"analysis overhead {key}"
        row(name, f"{v['analysis_ms']:.1f} ms", f"floor {v['floor_ms']:.1f} ms", f"{v['overhead']:.2f}")
        if key.startswith("self_attention_head_importance/"):
            row(f"seconds {key}", f"{v['analysis_ms'] / 1000:.2f} s", "", "")
    if "cold_start" not in f:  # python -m bench --only inside
        missed = [r for r in report["goals"] if not r["met"]]
        return "\n".join(lines + ["", f"goals met: {len(report['goals']) - len(missed)} of {len(report['goals'])}"])
    if "round_trips" in f:
        ping = f["round_trips"]["ping_ms"]
        for key, v in f["round_trips"].items():
            if isinstance(v, dict):
                row(
                    f"round trip {key}",
                    f"{v['round_trip_ms']:.1f} ms",
                    f"ping {ping:.1f} + {v['in_process_ms']:.1f} ms",
                    f"{v['ratio']:.2f}",
                )
    c = f["cold_start"]
    row("cold start", f"{c['app_s']:.2f} s", f"imports {c['imports_s']:.2f} s", f"{c['ratio']:.2f}")
    for size, v in f["payload"].items():
        row(
            f"payload self_attention/{size}",
            f"{v['view_bytes'] / 1e3:.0f} KB",
            f"bertviz {v['bertviz_bytes'] / 1e3:.0f} KB",
            f"{v['ratio']:.3f}",
        )
    mem = f["memory"]
    for key, name in (("rss_app_mb", "RSS app (MB)"), ("rss_bench_mb", "RSS bench process (MB)")):
        if key in mem:
            row(name, f"{mem[key]:.0f} MB", "", "", name)
    p = f["packing"]
    row(
        "BiLSTM forward, packed",
        f"{p['packed_forward_ms']:.1f} ms",
        f"padded {p['padded_forward_ms']:.1f} ms",
        f"{p['packed_forward_ms'] / p['padded_forward_ms']:.2f}",
    )
    row(
        "BiLSTM forward+backward, packed",
        f"{p['packed_forward_backward_ms']:.1f} ms",
        f"padded {p['padded_forward_backward_ms']:.1f} ms",
        f"{p['packed_forward_backward_ms'] / p['padded_forward_backward_ms']:.2f}",
    )
    missed = [r for r in report["goals"] if not r["met"]]
    lines += ["", f"goals met: {len(report['goals']) - len(missed)} of {len(report['goals'])}"]
    return "\n".join(lines)
