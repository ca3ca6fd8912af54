"""`python -m bench.run` (`make bench`): run every benchmark, print a table and write
bench/results/latest.json (a list of {"name", "figure", "value", "unit", "baseline",
"ratio", "target", "ok"}, plus a "note" on how each was measured).

`python -m bench.run inbox` measures only the figures whose names start with one of the
words given (here the five inbox figures; /healthz always runs) and writes
bench/results/selected.json instead, so latest.json stays a whole run."""

import argparse
import json
import os
import sys
import time
import traceback

from bench.harness import RESULTS, bench_environment, fresh_database, migrate, reuse_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database the previous run loaded (PostgreSQL only)",
    )
    parser.add_argument(
        "only",
        nargs="*",
        metavar="NAME",
        help="measure only the figures whose names start with one of these (e.g. inbox),"
        " or a feature's whole set (service, training, donations, people)",
    )
    args = parser.parse_args(argv)

    def wanted(figure_name: str) -> bool:
        return not args.only or any(figure_name.startswith(word) for word in args.only)

    started = time.monotonic()
    # Another checkout benchmarking on the same PostgreSQL names its own (BENCH_DATABASE).
    name = os.environ.get("BENCH_DATABASE", "boai_bench")
    database = reuse_database if args.reuse else fresh_database
    url, where = database(name)
    small_url, small_where = database(f"{name}_small")
    env = {**os.environ, **bench_environment(), "DATABASE_URL": url}
    small_env = {**env, "DATABASE_URL": small_url}
    # The settings classes read the environment when config.py is imported: set it first.
    os.environ.update(env)
    from portal import create_app

    app = create_app("production")
    small_app = create_app("production", {"SQLALCHEMY_DATABASE_URI": small_url})
    print(f"database: {where}; small data: {small_where}")
    if not args.reuse:
        for note in [*migrate(env), *migrate(small_env)]:
            print(f"note: {note}")

    from bench import workbench

    small_cookie = workbench.prepare_small(small_app, reuse=args.reuse)
    small = (small_env, small_cookie) if wanted("inbox_county_scale") else None
    figures = workbench.run(env, app, reuse=args.reuse, small=small, wanted=wanted)
    from bench import anonymous

    if any(wanted(name) for name, _path, _expect in anonymous.PAGES):
        figures += anonymous.run(env, app, wanted=wanted)
    # The features' own data sets: each loads (or reuses) its own rows, so one is run
    # only when named (by its module or one of its figures) or when nothing is named.
    from bench import donations, people, service, training

    feature_sets = (
        ("service", wanted("service"), lambda: service.run(env, app, reuse=args.reuse)),
        # training: a database of its own
        ("training", wanted("training"), lambda: training.measure_all(reuse=args.reuse)),
        ("donations", wanted("donations"), lambda: donations.run(env, app, reuse=args.reuse)),
        (
            "people",
            wanted("people") or wanted("volunteers_province_area") or wanted("card_verify"),
            lambda: people.run(env, app, reuse=args.reuse),
        ),
    )
    _print_table(figures)
    for set_name, chosen, measure in feature_sets:
        if chosen:
            got = _measure_set(set_name, measure)
            _print_table(got)  # as soon as measured: a later set's failure loses nothing
            figures += got
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()

    _print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("selected.json" if args.only else "latest.json")
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {out} in {time.monotonic() - started:.0f} s")
    return 0 if all(f["ok"] for f in figures) else 1


def _measure_set(set_name: str, measure) -> list[dict]:
    """A feature set's figures, or one failed row saying why (the traceback printed),
    so the sets measured before and after it still count."""
    try:
        return measure()
    except Exception as exc:  # noqa: BLE001 - any failure of the set is reported the same
        traceback.print_exc()
        return [
            {
                "name": f"{set_name}_failed",
                "figure": f"the {set_name} set failed: {type(exc).__name__}",
                "value": None,
                "unit": "ms",
                "baseline": None,
                "ratio": None,
                "target": None,
                "ok": False,
            }
        ]


def _print_table(figures: list[dict]) -> None:
    def cell(value, fmt="{:.2f}"):
        return "-" if value is None else fmt.format(value)

    print()
    print(f"{'name':<26} {'median ms':>10} {'baseline':>9} {'ratio':>6} {'target':>6}  ok")
    for f in figures:
        print(
            f"{f['name']:<26} {cell(f['value']):>10} {cell(f['baseline']):>9} "
            f"{cell(f['ratio']):>6} {cell(f['target'], '{:g}'):>6}  {'yes' if f['ok'] else 'NO'}"
        )
        if f.get("note"):
            print(f"{'':<26} {f['note']}")
    print()


if __name__ == "__main__":
    sys.exit(main())
