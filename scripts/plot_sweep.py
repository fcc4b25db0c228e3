#!/usr/bin/python3
# Debian's python3 on purpose: python3-matplotlib and python3-pandas install only for it.
"""Scatter-plot two metrics of a `tasim sweep` results CSV, optionally coloured by a third column,
with the sweep's Pareto-optimal points highlighted."""
import argparse
import difflib
import math
import os
import sys

PROG = "plot_sweep"
FRONT_NOTE = ("run the sweep with --pareto x=METRIC,y=METRIC "
              "(e.g. --pareto x=area_mm2,y=tokens_per_second) to mark the Pareto front")
# Column-name suffix -> unit shown in the axis label; the first match wins.
UNITS = [("_per_second", "/s"), ("_seconds", "s"), ("_mm2", "mm²"), ("_mib", "MiB"),
         ("_gbps", "GB/s"), ("_j", "J"), ("_w", "W")]

EPILOG = """\
The CSV is what `tasim sweep SPEC.yaml -o results.csv` writes: a `point` column (0-based index),
one column per sweep axis named by its key path (e.g. arch.core.matrix.rows, run.phase), `status`
(ok, failed or skipped), `error`, then metric columns (step_seconds, tokens_per_second, mfu,
area_mm2, energy_j, ...; empty unless ok) and, with `tasim sweep --pareto x=...,y=...`, a final
`pareto` column (1 = Pareto-optimal). Only ok rows are plotted; the others are counted in the
subtitle. The front is the one tasim computed for the --pareto metrics; plot those metrics to see
it as a front (this script never recomputes it).

examples:
  scripts/plot_sweep.py results.csv -x area_mm2 -y tokens_per_second
  scripts/plot_sweep.py results.csv -x area_mm2 -y tokens_per_second --color run.phase --label-front
  scripts/plot_sweep.py results.csv -x energy_j -y step_seconds --logx --logy -o energy.svg"""


class UserError(Exception):
    """A problem with the input or arguments: reported as one line, never as a traceback."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv", metavar="RESULTS.csv", help="results CSV written by tasim sweep")
    p.add_argument("-x", required=True, metavar="METRIC", help="numeric column for the x axis")
    p.add_argument("-y", required=True, metavar="METRIC", help="numeric column for the y axis")
    p.add_argument("--color", metavar="COLUMN",
                   help="colour points by this metric (colour bar) or axis (legend if not numeric)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="image to write (.png, .svg, .pdf); default: RESULTS with .png for .csv")
    p.add_argument("--logx", action="store_true", help="logarithmic x axis")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    p.add_argument("--title", help="figure title (default: 'Y vs X')")
    p.add_argument("--label-front", action="store_true",
                   help="label each Pareto-optimal point with its point index and axis values")
    return p.parse_args(argv)


def axis_label(column):
    for suffix, unit in UNITS:
        if column.endswith(suffix):
            return f"{column} [{unit}]"
    return column


def check_column(df, name, option):
    if name in df.columns:
        return
    close = difflib.get_close_matches(name, list(df.columns), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UserError(f"unknown column '{name}' ({option}); {hint}available: {', '.join(df.columns)}")


def numeric(pd, ok, name, option):
    """The column over ok rows as floats (NaN where empty); any non-empty non-number is an error."""
    values = pd.to_numeric(ok[name], errors="coerce")
    bad = ok[name][values.isna() & ok[name].notna()]
    if len(bad):
        where = f" in point {ok.loc[bad.index[0], 'point']}" if "point" in ok else ""
        raise UserError(f"column '{name}' ({option}) is not numeric: '{bad.iloc[0]}'{where}")
    return values


def label_points(ax, df, rows, xs, ys, logx):
    """Annotate each row with its point index and axis values (the columns before `status`)."""
    cols = list(df.columns)
    axes = [c for c in cols[:cols.index("status")] if c != "point"]
    short = [a.rsplit(".", 1)[-1] for a in axes]
    names = short if len(set(short)) == len(short) else axes  # full key paths if ambiguous
    lo, hi = ax.get_xlim()  # after the scale is set, so the limits are final
    scale = math.log10 if logx else (lambda v: v)
    for i, k in enumerate(sorted(range(len(xs)), key=lambda k: xs.iloc[k])):
        row, px, py = rows.iloc[k], xs.iloc[k], ys.iloc[k]
        text = ", ".join(f"{n}={row[a]}" for n, a in zip(names, axes))
        if "point" in row:
            text = f"#{row['point']}: {text}"
        # Right of the point in the left half, left of it in the right half, so labels stay in
        # the axes; alternate below/above so neighbours along the front do not overlap.
        right_half = (scale(px) - scale(lo)) > (scale(hi) - scale(lo)) / 2
        ax.annotate(text, (px, py), textcoords="offset points", fontsize=7,
                    xytext=(-8 if right_half else 8, 8 if i % 2 else -12),
                    ha="right" if right_half else "left")


def plot(args):
    out = args.output or os.path.splitext(args.csv)[0] + ".png"
    fmt = os.path.splitext(out)[1].lstrip(".").lower()
    # Drop the version/date stamps matplotlib writes by default so equal inputs give equal bytes.
    metadata = {"png": {"Software": None}, "svg": {"Creator": None, "Date": None},
                "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
    if fmt not in metadata:
        raise UserError(f"unsupported output format '{out}': use .png, .svg or .pdf")
    if os.path.abspath(out) == os.path.abspath(args.csv):
        raise UserError(f"the output would overwrite the input {args.csv}; give -o")

    try:
        import matplotlib
        matplotlib.use("Agg")  # headless: no display needed
        import matplotlib.pyplot as plt
        import pandas as pd
    except ImportError as e:
        raise UserError(f"{e.name} is missing for {sys.executable} "
                        "(Debian: apt-get install python3-matplotlib python3-pandas)")
    matplotlib.rcdefaults()  # ignore any user matplotlibrc: same inputs, same image

    # Only empty fields are missing: axis values such as "none" or "NA" stay strings.
    try:
        df = pd.read_csv(args.csv, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise UserError(f"no such file: {args.csv}")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise UserError(f"cannot read {args.csv} as CSV: {str(e).strip().splitlines()[0]}")
    if "status" not in df.columns:
        raise UserError(f"{args.csv} has no 'status' column; is it a tasim sweep results CSV?")
    for name, option in ((args.x, "-x"), (args.y, "-y"), (args.color, "--color")):
        if name is not None:
            check_column(df, name, option)

    status = df["status"].fillna("").astype(str)
    ok = df[status == "ok"]
    others = status[status != "ok"].value_counts()
    # failed and skipped first, then any other status; sorted so the subtitle is stable.
    usual = ("failed", "skipped")
    order = [s for s in usual if s in others] + sorted(set(others.index) - set(usual))
    not_shown = [f"{others[s]} {s or 'no status'}" for s in order]
    if ok.empty:
        raise UserError(f"no rows with status ok in {args.csv} ({', '.join(not_shown) or 'no rows'})")

    x, y = numeric(pd, ok, args.x, "-x"), numeric(pd, ok, args.y, "-y")
    shown = x.notna() & y.notna()
    if not shown.any():
        raise UserError(f"no ok row has values for both '{args.x}' and '{args.y}'")
    if shown.sum() < len(ok):
        not_shown.append(f"{len(ok) - shown.sum()} ok without {args.x} or {args.y} values")
    for log, values, name, option in ((args.logx, x, args.x, "--logx"),
                                      (args.logy, y, args.y, "--logy")):
        if log and (values[shown] <= 0).any():
            raise UserError(f"{option} needs positive values, but '{name}' has {values[shown].min():g}")
    ok, x, y = ok[shown], x[shown], y[shown]

    fig, ax = plt.subplots(figsize=(8, 6), dpi=100, layout="constrained")
    if args.color is None:
        ax.scatter(x, y, s=30, color="C0", alpha=0.8, label="sweep points")
    else:
        c = pd.to_numeric(ok[args.color], errors="coerce")
        if c.notna().sum() == ok[args.color].notna().sum() and c.notna().any():
            cmap = matplotlib.colormaps["viridis"].copy()
            cmap.set_bad("lightgrey")  # points with no value for the colour column
            sc = ax.scatter(x, y, c=c, cmap=cmap, s=30, alpha=0.9, plotnonfinite=True)
            fig.colorbar(sc, ax=ax, label=axis_label(args.color))
        else:
            labels = ok[args.color].fillna("(empty)").astype(str)
            for i, value in enumerate(labels.unique()):  # sweep order, so colours are stable
                sel = labels == value
                ax.scatter(x[sel], y[sel], s=30, alpha=0.9, color=f"C{i % 10}",
                           label=f"{args.color} = {value}")

    front_size = 0
    if "pareto" not in df.columns:
        print(f"{PROG}: note: {args.csv} has no 'pareto' column, so no front is drawn; {FRONT_NOTE}",
              file=sys.stderr)
    else:
        front = (pd.to_numeric(ok["pareto"], errors="coerce") == 1).to_numpy()
        front_size = int(front.sum())
        fx, fy = x[front].to_numpy(), y[front].to_numpy()
        order_x = fx.argsort(kind="stable")
        fx, fy = fx[order_x], fy[order_x]
        # The step line only makes sense if the rows form a front in this plot, i.e. if the sweep's
        # --pareto metrics are the ones plotted here: then y is monotonic along x.
        dy = fy[1:] - fy[:-1]
        if front_size > 1 and ((dy >= 0).all() or (dy <= 0).all()):
            ax.step(fx, fy, where="post", color="black", linewidth=1, alpha=0.6, zorder=3)
        ax.scatter(fx, fy, s=90, facecolors="none", edgecolors="black", linewidths=1.5, zorder=4,
                   label=f"Pareto-optimal ({front_size})")
    if args.label_front and "pareto" not in df.columns:
        print(f"{PROG}: note: --label-front has no front to label", file=sys.stderr)

    ax.set_xscale("log" if args.logx else "linear")
    ax.set_yscale("log" if args.logy else "linear")
    if args.label_front and front_size:
        label_points(ax, df, ok[front], x[front], y[front], args.logx)
    ax.set_xlabel(axis_label(args.x))
    ax.set_ylabel(axis_label(args.y))
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0] and (args.color is not None or "pareto" in df.columns):
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(args.title or f"{args.y} vs {args.x}")
    subtitle = f"{len(ok)} points from {os.path.basename(args.csv)}"
    if not_shown:
        subtitle += f"; not shown: {', '.join(not_shown)}"
    ax.set_title(subtitle, fontsize=9)

    plt.rcParams["svg.hashsalt"] = "tasim"  # fixed ids inside SVGs
    try:
        fig.savefig(out, format=fmt, metadata=metadata[fmt])
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}")
    plt.close(fig)
    print(f"wrote {out}: {len(ok)} points, {front_size} Pareto-optimal"
          + (f"; not shown: {', '.join(not_shown)}" if not_shown else ""))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        plot(args)
    except UserError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
