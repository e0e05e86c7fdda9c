"""Gantt chart of a schedule: which ops run together, on which stream, when.

    python3 -m ios.timeline scheduled.mlir [-o timeline.svg]
                            [--sequential sequential.mlir]
                            [--profile profile.json] [--device DEVICE]

The times come from ``ios-translate --ios-to-timeline`` (the analytic GPU
model's event simulation, the one that costed the stages; docs/Timeline.md
describes its JSON). Streams are rows, ops are bars labelled with their layer
name where the label fits (every bar has a tooltip in SVG), stages are shaded
bands. With ``--sequential`` the sequential schedule is drawn above on the
same time axis; with ``--profile`` the per-stage and per-op times a compiled
CPU program measured (``--profile``, docs/Timeline.md) are drawn below, on
their own axis. The suffix of ``-o`` picks SVG or PNG.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from ios import cli

SVG_NS = "http://www.w3.org/2000/svg"
# Colours of op kinds (matplotlib's tab10, in order of first appearance).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
BAND_COLOURS = ["#f0f0f0", "#dcdcdc"]
LABEL_FONT = 7  # points
ROW_INCHES = 1.2  # per stream: room for names written along narrow bars
BAR_HEIGHT = 0.8  # of a row


class TimelineError(Exception):
    """Bad input: the message says what and where."""


def load_timeline(path, ios_translate, device=None):
    """The --ios-to-timeline JSON of ``path`` (a scheduled .mlir, or such a
    JSON already written)."""
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    cmd = [ios_translate, "--ios-to-timeline", path]
    if device:
        cmd.append(f"--timeline-device={device}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise TimelineError(f"cannot run {ios_translate}: {e.strerror} "
                            "(build it, or pass --build-dir)")
    if proc.returncode != 0:
        raise TimelineError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout)


def pick_function(timeline, name, what):
    functions = timeline.get("functions") if isinstance(timeline, dict) else None
    if not isinstance(functions, list):
        raise TimelineError(f"{what}: not an --ios-to-timeline JSON "
                            "(no \"functions\" list)")
    if name is None:
        if len(functions) != 1:
            raise TimelineError(
                f"{what} has {len(functions)} functions "
                f"({', '.join(f['name'] for f in functions)}); pick one with --function")
        return functions[0]
    for f in functions:
        if f["name"] == name:
            return f
    raise TimelineError(f"{what} has no function {name!r}")


def load_profile(path):
    """A measured profile: {"stages": [{"index": i, "ms": x, "ops": [{"name":
    n, "ms": y}]}]} (docs/Timeline.md); raises TimelineError naming what is
    wrong."""
    with open(path) as f:
        try:
            profile = json.load(f)
        except json.JSONDecodeError as e:
            raise TimelineError(f"{path}: not JSON: {e}")
    stages = profile.get("stages") if isinstance(profile, dict) else None
    if not isinstance(stages, list):
        raise TimelineError(f"{path}: expected an object with a \"stages\" list")
    for i, s in enumerate(stages):
        where = f"{path}: stages[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("index"), int):
            raise TimelineError(f"{where}: expected an object with an integer \"index\"")
        if not _is_time(s.get("ms")):
            raise TimelineError(f"{where}: \"ms\" must be a number >= 0")
        ops = s.get("ops", [])
        if not isinstance(ops, list):
            raise TimelineError(f"{where}: \"ops\" must be a list")
        for j, op in enumerate(ops):
            if not (isinstance(op, dict) and isinstance(op.get("name"), str)
                    and _is_time(op.get("ms"))):
                raise TimelineError(f"{where}.ops[{j}]: expected "
                                    "{\"name\": string, \"ms\": number >= 0}")
    return stages


def _is_time(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0


def measured_function(function, stages, path):
    """``function`` (a timeline) with the measured times of ``stages`` laid
    out the same way: stages back to back, the ops of a group one after the
    other on the group's stream."""
    by_index = {s["index"]: s for s in function["stages"]}
    out_stages, now = [], 0.0
    for s in sorted(stages, key=lambda s: s["index"]):
        model = by_index.get(s["index"])
        if model is None:
            raise TimelineError(
                f"{path}: stage {s['index']} is not in the schedule of "
                f"@{function['name']} ({len(function['stages'])} stages)")
        stream_of = {op["name"]: op["stream"]
                     for group in model["groups"] for op in group}
        cursor = {}
        bars = []
        for op in s.get("ops", []):
            if op["name"] not in stream_of:
                raise TimelineError(
                    f"{path}: op {op['name']!r} of stage {s['index']} is not "
                    "in that stage of the schedule")
            stream = stream_of[op["name"]]
            start = cursor.get(stream, now)
            bars.append({"name": op["name"], "kind": _kind_of(model, op["name"]),
                         "start_ms": start, "end_ms": start + op["ms"],
                         "stream": stream})
            cursor[stream] = start + op["ms"]
        out_stages.append({"index": s["index"], "start_ms": now,
                           "end_ms": now + s["ms"], "groups": [bars]})
        now += s["ms"]
    return {"name": function["name"], "streams": function["streams"],
            "latency_ms": now, "stages": out_stages}


def _kind_of(stage, name):
    for group in stage["groups"]:
        for op in group:
            if op["name"] == name:
                return op["kind"]
    return "?"


def ops_of(function):
    return [op for s in function["stages"] for g in s["groups"] for op in g]


def _text_px(text, dpi):
    """Approximate width of ``text`` at LABEL_FONT points (Helvetica-like
    fonts average about 0.6 em per character)."""
    return len(text) * LABEL_FONT * 0.6 * dpi / 72


def _fitting_label(name, width_px, height_px, dpi):
    """(label, rotation) for a bar of ``width_px`` x ``height_px``: the layer
    name or its last dotted part (``Mixed_5b.branch1x1`` -> ``branch1x1``;
    merged ops: each member's, else the first one's and how many more),
    across the bar if it fits, else along it (vertical text in a narrow bar);
    None if nothing fits."""
    parts = [part.rsplit(".", 1)[-1] for part in name.split("+")]
    labels = [name, "+".join(parts)]
    if len(parts) > 1:  # a merged op: its first member and how many more
        labels.append(f"{parts[0]}+{len(parts) - 1}")
    line_px = LABEL_FONT * 1.25 * dpi / 72
    for label in labels:
        if _text_px(label, dpi) + 4 <= width_px and line_px <= height_px:
            return label, 0
    for label in labels:
        if _text_px(label, dpi) + 4 <= height_px and line_px <= width_px:
            return label, 90
    return None


def _draw(ax, function, colours, title, key, span, bar_ids, tips):
    """One Gantt panel. Op bars get the ids op-N (appended to ``bar_ids``),
    stage bands stage-KEY-INDEX; ``tips`` maps every id to its tooltip."""
    streams = max(1, function["streams"])
    fig = ax.figure
    # Pixels per ms, for deciding which labels fit.
    box = ax.get_position()
    px_per_ms = box.width * fig.get_figwidth() * fig.dpi / span
    bar_px = BAR_HEIGHT * box.height * fig.get_figheight() * fig.dpi / (streams + 0.25)
    min_ms = span * 0.002  # views (no kernel) still get a visible sliver
    for s in function["stages"]:
        gid = f"stage-{key}-{s['index']}"
        ax.axvspan(s["start_ms"], s["end_ms"], color=BAND_COLOURS[s["index"] % 2],
                   zorder=0, gid=gid)
        tips[gid] = (f"stage {s['index']}: {s['start_ms']:.4f}-{s['end_ms']:.4f} ms, "
                     f"{sum(len(g) for g in s['groups'])} ops")
        # Stage numbers where they fit in the band.
        name = f"S{s['index']}"
        if _text_px(name, fig.dpi) + 2 <= (s["end_ms"] - s["start_ms"]) * px_per_ms:
            ax.text((s["start_ms"] + s["end_ms"]) / 2, -0.62, name,
                    ha="center", va="bottom", fontsize=LABEL_FONT, color="#555555")
    for op in ops_of(function):
        duration = op["end_ms"] - op["start_ms"]
        colour = colours.setdefault(op["kind"], PALETTE[len(colours) % len(PALETTE)])
        gid = f"op-{len(bar_ids)}"
        ax.barh(op["stream"], max(duration, min_ms), left=op["start_ms"],
                height=BAR_HEIGHT, color=colour, edgecolor="white", linewidth=0.5,
                alpha=1.0 if duration > 0 else 0.5, gid=gid, zorder=2)
        bar_ids.append(gid)
        tips[gid] = (f"{op['name']} ({op['kind']}, stream {op['stream']}): "
                     f"{op['start_ms']:.4f}-{op['end_ms']:.4f} ms")
        label = _fitting_label(op["name"], duration * px_per_ms, bar_px, fig.dpi)
        if label:
            ax.text(op["start_ms"] + duration / 2, op["stream"], label[0],
                    rotation=label[1], ha="center", va="center",
                    fontsize=LABEL_FONT, color="black", clip_on=True, zorder=3)
    ax.set_ylim(streams - 0.5, -0.75)
    ax.set_yticks(range(streams))
    ax.set_yticklabels([f"stream {i}" for i in range(streams)], fontsize=8)
    ax.set_title(title, fontsize=9, loc="left")
    ax.grid(axis="x", color="#cccccc", linewidth=0.5, zorder=1)
    ax.set_axisbelow(True)


def _panel_title(label, f):
    schedule = f.get("schedule") or {}
    text = (f"{label} @{f['name']}: {len(f['stages'])} stages, "
            f"{f['latency_ms']:.3f} ms simulated on {f['device']}")
    if schedule.get("strategy"):
        text += f" (strategy {schedule['strategy']}, costed by {schedule['profiler']})"
    return text


def render(panels, output, measured=None):
    """Draws ``panels`` [(key, title, function)] on one time axis (and
    ``measured`` (key, title, function) below on its own) into ``output``
    (.svg or .png). Returns the ids of the op bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fmt = os.path.splitext(output)[1].lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise TimelineError(f"-o {output}: the suffix must be .svg or .png")
    rows = list(panels) + ([measured] if measured else [])
    heights = [max(1, f["streams"]) * ROW_INCHES + 0.9 for _, _, f in rows]
    # Wider for bigger schedules, so more bars have room for their names.
    ops = max(len(ops_of(f)) for _, _, f in rows)
    width = min(40.0, max(14.0, 0.2 * ops))
    fig = plt.figure(figsize=(width, sum(heights) + 0.6), dpi=100)
    grid = fig.add_gridspec(len(rows), 1, height_ratios=heights, hspace=0.55)
    span = max(f["latency_ms"] for _, _, f in panels) or 1.0
    colours, bar_ids, tips, first = {}, [], {}, None
    for i, (key, title, f) in enumerate(rows):
        is_measured = measured is not None and i == len(rows) - 1
        ax = fig.add_subplot(grid[i], sharex=None if is_measured else first)
        if not is_measured and first is None:
            first = ax
        own_span = (f["latency_ms"] or 1.0) if is_measured else span
        ax.set_xlim(0, own_span * 1.005)
        _draw(ax, f, colours, title, key, own_span, bar_ids, tips)
        ax.set_xlabel("ms (measured)" if is_measured else "ms (analytic model)",
                      fontsize=8)
    fig.legend(handles=[Patch(color=c, label=k) for k, c in colours.items()],
               loc="upper right", ncol=min(len(colours), 8), fontsize=8,
               frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, bbox_inches="tight")
    plt.close(fig)
    data = buffer.getvalue()
    if fmt == "svg":
        data = _add_tooltips(data, tips)
    with open(output, "wb") as f:
        f.write(data)
    return bar_ids


def _add_tooltips(svg, tooltips):
    """Gives every op bar and stage band (<g id="...">) its <title>: hovering
    shows the op or the stage."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(svg)
    for g in root.iter(f"{{{SVG_NS}}}g"):
        tip = tooltips.get(g.get("id"))
        if tip is not None:
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = tip
            g.insert(0, title)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=cli.prog("ios.timeline"),
        description="Draw a Gantt chart of a scheduled ios module: streams as "
                    "rows, ops as bars named by their layer, stages as bands "
                    "(times from the analytic GPU model's simulation, "
                    "ios-translate --ios-to-timeline).")
    p.add_argument("scheduled", metavar="SCHEDULED",
                   help="a scheduled .mlir (ios-opt --ios-schedule), or the JSON "
                        "ios-translate --ios-to-timeline printed for one")
    p.add_argument("-o", "--output", default="timeline.svg",
                   help="the picture to write; .svg (with a tooltip per op) or "
                        ".png (default timeline.svg)")
    p.add_argument("--sequential", metavar="MLIR",
                   help="the same network scheduled with strategy=sequential: "
                        "drawn above the schedule on the same time axis")
    p.add_argument("--profile", metavar="JSON",
                   help="per-stage and per-op times measured by the compiled "
                        "program's --profile (docs/Timeline.md): drawn below, "
                        "on their own time axis")
    p.add_argument("--device", help="simulate on this device (v100, a100, h100 "
                                    "or a JSON device file) instead of the one "
                                    "each schedule was made for")
    p.add_argument("--function", help="the function to draw when a module has "
                                      "several")
    p.add_argument("--build-dir", help="the CMake build folder holding "
                                       "bin/ios-translate (default build/ or "
                                       "$IOS_BUILD_DIR, else ios-translate on "
                                       "PATH)")
    args = p.parse_args(argv)
    from ios.pipeline import _paths
    _, build = _paths(args.build_dir)
    translate = os.path.join(build, "bin", "ios-translate")
    if not args.build_dir and not os.path.exists(translate):
        translate = shutil.which("ios-translate") or translate  # installed
    try:
        scheduled = pick_function(
            load_timeline(args.scheduled, translate, args.device),
            args.function, args.scheduled)
        panels = []
        if args.sequential:
            sequential = pick_function(
                load_timeline(args.sequential, translate, args.device),
                args.function or scheduled["name"], args.sequential)
            panels.append(("sequential", _panel_title("Sequential", sequential),
                           sequential))
        strategy = (scheduled.get("schedule") or {}).get("strategy", "")
        panels.append(("schedule", _panel_title(f"IOS {strategy}".rstrip(), scheduled),
                       scheduled))
        measured = None
        if args.profile:
            m = measured_function(scheduled, load_profile(args.profile), args.profile)
            measured = ("measured", f"Measured @{m['name']} ({args.profile}): "
                        f"{len(m['stages'])} stages, {m['latency_ms']:.3f} ms", m)
        bars = render(panels, args.output, measured)
    except (TimelineError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"timeline: {args.output} ({len(bars)} op bars)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
