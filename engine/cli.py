"""The ``simio`` command line: train, schema, generate, quickstart, report.

Expected failures print one line (``error: <code>: <detail>``) plus the catalogue's fix
worded for the command line (``ErrorSpec.fix_for_cli``) to stderr and exit with status 2;
nothing is half-written (models and outputs are written to a temporary name and renamed
into place).

Start-up cost matters (``simio --help`` should answer at once): this module imports only
click, the error catalogue and the facade (``engine.api``, the only engine module it uses,
whose heavy names load on first use); each command takes what it needs from the facade, and
tqdm, in its body.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.api import FORMATS
from engine.errors import SimioError

EXIT_BAD_INPUT = 2
# True when this process is the `simio` command (set by the console script), not a library
# caller or a test runner: only then may a command change process-wide numba state.
OWN_PROCESS = False


def fail(exc: SimioError):
    """Print ``exc`` as the CLI's one-line error plus its fix and exit with status 2."""
    click.echo(f"error: {exc.code}: {exc.detail}", err=True)
    click.echo(f"fix: {exc.spec.fix_for_cli}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class _Group(click.Group):
    """Turns SimioError (and unreadable JSON) into the one-line error + exit code 2, and
    loads the commands in ``lazy_commands`` (name -> "module:attribute") only when one is
    asked for or listed, so `simio generate` does not import what `simio admin` needs."""

    lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy_commands:
            import importlib

            module, attribute = self.lazy_commands[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SimioError as exc:
            fail(exc)


@click.group(cls=_Group)
@click.version_option(package_name="simio-local")
def main():
    """simio: offline synthetic data with scenario conditioning."""


DASK_HELP = ("Run on a Dask cluster: 'local' (started for the run) or a scheduler address "
             "such as tcp://host:8786 (docs/distributed.md).")


@main.command()
@click.argument("seed_file", type=click.Path())
@click.option("-o", "--output", "model_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write the trained model (.simio).")
@click.option("--auto-clean/--no-auto-clean", default=True, show_default=True,
              help="Run the default cleaning pipeline (docs/cleaning.md).")
@click.option("--max-parents", type=click.IntRange(0, 6), default=3, show_default=True)
@click.option("--text-min-count", type=click.IntRange(1), default=5, show_default=True,
              help="Free text keeps only values seen at least this often (docs/cleaning.md).")
@click.option("--sheet", default=None, help=".xlsx: the sheet to read, by name or 0-based "
              "index (default: the first sheet holding a table).")
@click.option("--header-row", type=click.IntRange(1), default=None,
              help=".xlsx: the header's row number as Excel shows it (default: found under "
                   "title/notes rows).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help=DASK_HELP + " SEED_FILE may then be a folder of partitions or a glob.")
def train(seed_file, model_path, auto_clean, max_parents, text_min_count, sheet, header_row,
          dask_address):
    """Clean SEED_FILE (CSV, Parquet, .xlsx, .sav), fit a model and save it."""
    from engine.api import Synthesizer, progress_for_stream, read_table

    if OWN_PROCESS:                     # fit's kernels need no BLAS either (issue 12)
        from engine.api import init_target_for_cli

        init_target_for_cli()
    if dask_address is None and not Path(seed_file).is_file():
        raise SimioError("simio_invalid_field", f"seed file {seed_file} does not exist")
    synth = Synthesizer(auto_clean=auto_clean, max_parents=max_parents,
                        text_min_count=text_min_count)
    # Stages of the fit: a tqdm bar each on a terminal, one line each otherwise (stderr).
    with progress_for_stream(sys.stderr) as report:
        if dask_address is not None:
            from engine.api import fit_on_cluster

            fit_on_cluster(synth, seed_file, dask_address, progress=report)
        else:
            seed = (read_table(seed_file, sheet=sheet, header_row=header_row)
                    if sheet is not None or header_row is not None else seed_file)
            synth.fit(seed, progress=report)
        report("save")
        synth.save(model_path)
    summary = synth.cleaning_summary_
    click.echo(f"trained {model_path}: {summary['clean_rows']} rows x "
               f"{summary['clean_columns']} columns "
               f"(from {summary['input_rows']} x {summary['input_columns']})")
    if "sheet" in summary.get("source", {}):
        click.echo(f"  read sheet {summary['source']['sheet']!r}, header on row "
                   f"{summary['source']['header_row']}")
    for dropped in summary["dropped_columns"]:
        click.echo(f"  dropped {dropped['name']}: {dropped['reason']}")
    for parent, child in synth.model_.edges:
        click.echo(f"  {parent} -> {child}")


@main.command()
@click.argument("model_path", type=click.Path(dir_okay=False))
def schema(model_path):
    """Print the cleaned schema of MODEL_PATH as JSON (use it to build scenarios)."""
    from engine.api import Synthesizer

    synth = Synthesizer.load(model_path)
    click.echo(json.dumps({"schema": synth.schema_.public(),
                           "cleaning_summary": synth.cleaning_summary_}, indent=2))


@main.command()
@click.argument("model_path", type=click.Path(dir_okay=False))
@click.option("--rows", "-n", type=int, default=None,
              help="Rows to generate (default: row_count of a --scenario request body).")
@click.option("--seed", type=int, default=None, help="Reproducibility seed.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the output's extension, else parquet); "
                   "an extension simio does not write is refused.")
@click.option("--scenario", type=click.Path(dir_okay=False), default=None,
              help="JSON file: a `conditions` object or a whole generation request body.")
@click.option("--max-upweight", type=float, default=None,
              help="Feasibility cap of scenario conditioning (docs/conditioning.md).")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Output file; with --dask, the dataset folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help=DASK_HELP + " OUTPUT is then a partitioned Parquet dataset folder.")
def generate(model_path, rows, seed, fmt, scenario, max_upweight, output, quiet,
             dask_address):
    """Generate synthetic rows from MODEL_PATH into OUTPUT."""
    from collections import Counter

    from engine.api import Synthesizer, output_format, parse_request, read_scenario_file

    if OWN_PROCESS:
        from engine.api import init_target_for_cli

        init_target_for_cli()

    # The one request rule (engine/generation_request.py): flags win over the file's fields.
    body = read_scenario_file(scenario) if scenario else {}
    request = parse_request(body, row_count=rows, output_format=fmt, seed=seed,
                            default_format="parquet")
    # Before any work: a .docx name, or a .csv name for --format sav, is refused. --format
    # first, then the output's extension, then the request body's output_format.
    fmt = output_format(output, fmt or (None if Path(output).suffix
                                        else request.output_format))
    rows, seed, conditions = request.row_count, request.seed, request.conditions
    if dask_address is None and Path(output).is_dir():
        raise SimioError("simio_invalid_field", f"output {output} is a directory; give a file "
                         "name (or --dask ADDRESS for a dataset folder)")
    synth = Synthesizer.load(model_path)
    if max_upweight is not None:
        synth.max_upweight = max_upweight
    if dask_address is not None:
        from engine.api import generate_on_cluster

        generation, counts = generate_on_cluster(
            synth, output, rows, seed=seed, conditions=conditions, fmt=fmt,
            address=dask_address, quiet=quiet)
        _report_generation(generation, counts, f"wrote {output} (partitioned parquet dataset)")
        return
    counts = {name: Counter() for name in (conditions or {}).get("categorical", {}) or {}}
    bar = _progress(rows, quiet)

    def on_chunk(frame):
        bar.update(len(frame))
        for name, counter in counts.items():
            counter.update(frame[name].astype(str).tolist())

    try:
        generation = synth.write(output, rows, fmt=fmt, seed=seed, conditions=conditions,
                                 on_chunk=on_chunk)
    finally:
        bar.close()
    _report_generation(generation, counts, f"wrote {output} ({fmt})")


def _report_generation(generation, counts, wrote: str) -> None:
    click.echo(f"rows requested: {generation.rows_requested}")
    click.echo(f"rows generated: {generation.rows_generated}")
    click.echo(f"status: {generation.status}")
    click.echo(f"seed: {generation.seed}")
    for name, counter in counts.items():
        targets = generation.scenario["categorical"][name]
        shares = ", ".join(f"{level} {counter[level] / max(generation.rows_generated, 1):.4f}"
                           f" (target {targets[level]:g})" for level in targets)
        click.echo(f"achieved {name}: {shares}")
    support = generation.scenario_support
    if support is not None:              # docs/conditioning.md, "Scenario support"
        click.echo(f"scenario support: {support['seed_rows_in_scenario']} seed rows in the "
                   f"scenario, extrapolated share {support['extrapolated_share']:.4f}")
        from engine.api import support_warning     # the quality code (pandas) only here

        warning = support_warning(support)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    click.echo(wrote)


@main.command()
@click.option("-o", "--output-dir", default="simio-quickstart", show_default=True,
              type=click.Path(file_okay=False))
def quickstart(output_dir):
    """The contract quickstart offline: seed -> train -> scenario -> Parquet."""
    from engine.api import QUICKSTART_SCENARIO, Synthesizer, quickstart_frame, write_text

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_path = out / "seed.csv"
    write_text(seed_path, quickstart_frame().to_csv(index=False))
    synth = Synthesizer().fit(seed_path)
    synth.save(out / "model.simio")
    generation = synth.write(out / "synthetic.parquet", QUICKSTART_SCENARIO["row_count"],
                             seed=QUICKSTART_SCENARIO["seed"],
                             conditions=QUICKSTART_SCENARIO["conditions"])
    import pandas as pd

    frame = pd.read_parquet(out / "synthetic.parquet")
    click.echo(f"seed: {seed_path} ({len(quickstart_frame())} rows)")
    click.echo(f"model: {out / 'model.simio'}  edges: {synth.model_.edges}")
    click.echo(f"scenario: {json.dumps(QUICKSTART_SCENARIO['conditions'])}")
    click.echo(f"generated {generation.rows_generated} of {generation.rows_requested} rows "
               f"({generation.status}) -> {out / 'synthetic.parquet'}")
    click.echo(frame.head().to_string())
    means = frame.groupby("segment", observed=True)["purchase_intent"].mean().round(1)
    click.echo(f"mean purchase_intent by segment: {means.to_dict()}")


@main.command()
@click.argument("real_file", metavar="REAL", type=click.Path(dir_okay=False))
@click.argument("synthetic_file", metavar="SYNTHETIC", type=click.Path(dir_okay=False))
@click.option("--scenario", type=click.Path(dir_okay=False), default=None,
              help="JSON file: a `conditions` object or a whole generation request body; "
                   "adds target-vs-achieved shares and range violations.")
@click.option("--title", default=None, help="Report title (default: from the file names).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the HTML report.")
def report(real_file, synthetic_file, scenario, title, output):
    """Write a self-contained HTML report comparing SYNTHETIC with REAL.

    REAL and SYNTHETIC are tables in any format `train` reads (CSV, Parquet, .xlsx, .sav),
    or an Arrow file as `generate` writes. The report has the quality scores, a
    distribution plot per column, a heatmap of pairwise association differences and, with
    --scenario, target vs achieved shares; its images are inline, it loads nothing.
    """
    from engine.api import build_report, read_frame, read_scenario_file

    body = read_scenario_file(scenario) if scenario else None
    real = read_frame(real_file)
    synthetic = read_frame(synthetic_file)
    title = title or f"Quality report: {Path(synthetic_file).name} vs {Path(real_file).name}"
    with _spinner("building the report"):
        html = build_report(real, synthetic, scenario=body, title=title)
    _write_text_atomic(output, html)
    click.echo(f"wrote {output} ({len(html) / 1024:,.0f} KB): {len(real):,} real rows, "
               f"{len(synthetic):,} synthetic rows, "
               f"{len([c for c in real.columns if c in synthetic.columns])} columns compared")


def _write_text_atomic(path, text: str) -> None:
    """Write whole or not at all (``engine.io.atomic``), after checking the directory."""
    from engine.api import write_text

    path = Path(path)
    if not path.parent.is_dir():
        raise SimioError("simio_invalid_field", f"output directory {path.parent} does not "
                         "exist")
    write_text(path, text)


def _progress(total, quiet):
    if quiet or not sys.stderr.isatty():   # what tqdm's disable=None does, without tqdm
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, disable=quiet or None,
                file=sys.stderr, leave=False)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


class _spinner:
    """A one-line status on stderr for work without a row count."""

    def __init__(self, label):
        self.label = label

    def __enter__(self):
        if sys.stderr.isatty():
            click.echo(f"{self.label}...", err=True)
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":  # pragma: no cover
    OWN_PROCESS = True
    main()
