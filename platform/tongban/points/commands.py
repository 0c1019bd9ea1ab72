"""`tongban points population` and `tongban points simulate`: the simulation's command line.
Attached to the `points` group by tongban.cli, which gives the database session."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import click
from sqlmodel import Session

from tongban.definitions.publish import current_version
from tongban.forms.definition import FormDefinition, load_form
from tongban.points import population as pop
from tongban.points.chart import svg, terminal
from tongban.points.rules import RuleSet
from tongban.points.simulate import (
    Crossing,
    Person,
    Report,
    SimulationError,
    published_version,
    read_population,
    resolve,
    simulate,
    stored_applications,
)
from tongban.worktime import TZ

LIST_LIMIT = 50


def _day(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f'"{value}" is not a date; expected YYYY-MM-DD',
                                 param_hint=what) from None


def population_form(session: Session) -> FormDefinition:
    row = current_version(session, "form", pop.FORM_CODE)
    if row is None:
        raise SimulationError(f'the form "{pop.FORM_CODE}" is not published')
    return load_form(dict(row.content), name=f"{row.code}@{row.version}")


class ProgressBar:
    """A bar on standard error, drawn only when it is a terminal (never in logs or pipes)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO = stream or sys.stderr
        self.shown = self.stream.isatty()
        self.began = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.shown or not total:
            return
        share = done / total
        filled = round(share * 30)
        seconds = time.monotonic() - self.began
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} "
                          f"{done:,}/{total:,} {seconds:5.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def add_commands(group: click.Group, session: Callable[[], Session]) -> None:
    """Attach the simulation commands to ``group`` (``tongban points``)."""

    @group.command("population")
    @click.option("--count", type=click.IntRange(min=1), required=True,
                  help="How many applicants")
    @click.option("--seed", type=int, default=1, show_default=True,
                  help="The same seed always gives the same people")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="FILE.json (a list of answers) or FILE.csv (one column per answer)")
    @click.option("--as-of", "as_of", help="Ages 22-60 on this day (default "
                                           f"{pop.DEFAULT_AS_OF.isoformat()})")
    def population_command(count: int, seed: int, out: Path, as_of: str | None) -> None:
        """Write a synthetic population of residence-points applicants (deterministic)."""
        day = _day(as_of, "--as-of") or pop.DEFAULT_AS_OF
        pop.write(pop.generate(count, seed, as_of=day), out)
        click.echo(f"Wrote {count:,} applicant(s) (seed {seed}, ages on {day}) to {out}.")

    @group.command("simulate")
    @click.argument("rules")
    @click.option("--population", "population_file",
                  type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="A population file (JSON list of answers, or CSV)")
    @click.option("--from-applications", is_flag=True,
                  help="The stored applications of the services that use the rule set")
    @click.option("--against", help="Compare with this published version (a number, or "
                                    '"current", the default; "none" compares with nothing)')
    @click.option("--baseline", type=click.Choice(["current"]),
                  help='Same as --against current')
    @click.option("--as-of", "as_of", help="Score on this day (default: today in Shanghai)")
    @click.option("--svg", "svg_out", type=click.Path(dir_okay=False, path_type=Path),
                  help="Also draw the distribution as an SVG chart in this file")
    @click.option("--all", "list_all", is_flag=True,
                  help=f"List every person crossing the pass mark (default: the first "
                       f"{LIST_LIMIT} each way)")
    def simulate_command(rules: str, population_file: Path | None, from_applications: bool,
                         against: str | None, baseline: str | None, as_of: str | None,
                         svg_out: Path | None, list_all: bool) -> None:
        """Score a population under RULES and compare it with the current version.

        RULES is a draft rules file (checked first: problems are listed as file:line and
        nothing runs) or a published rule set's id, optionally ID@VERSION."""
        if (population_file is None) == (not from_applications):
            raise click.UsageError("Give either --population FILE or --from-applications.")
        day = _day(as_of, "--as-of") or datetime.now(TZ).date()
        db = session()
        try:
            rule_set = resolve(db, rules)
            compared = _against(db, rule_set, baseline or against)
            if population_file is not None:
                form = population_form(db) if population_file.suffix.lower() == ".csv" else None
                people: list[Person] = read_population(population_file, form)
                source = str(population_file)
            else:
                people = stored_applications(db, rule_set.id)
                source = "stored applications"
        except SimulationError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            if error.problems:
                click.echo(f"{len(error.problems)} problem(s) found; nothing was simulated.",
                           err=True)
            else:
                click.echo(f"Error: {error}", err=True)
            sys.exit(1)
        bar = ProgressBar() if len(people) >= 1000 else None
        report = simulate(rule_set, people, day, against=compared, source=source,
                          progress=bar, total=len(people))
        click.echo(render(report, rules, list_all=list_all))
        if svg_out is not None:
            svg_out.write_text(chart_svg(report, rules), encoding="utf-8")
            click.echo(f"Chart written to {svg_out}.")


def _against(db: Session, rule_set: RuleSet, wanted: str | None) -> RuleSet | None:
    if wanted == "none":
        return None
    if wanted in (None, "current"):
        try:
            current = published_version(db, rule_set.id)
        except SimulationError:
            if wanted == "current":
                raise
            return None  # a rule set never published: nothing to compare with
        if wanted is None and current.version == rule_set.version:
            return None  # simulating the current version itself
        return current
    if not wanted.isdigit():
        raise SimulationError(f'--against "{wanted}": expected a version number, "current" '
                              'or "none"')
    return published_version(db, rule_set.id, int(wanted))


def _what(report: Report, rules: str) -> str:
    return (f"{report.rule_set_id} version {report.version}" if report.version is not None
            else f"{report.rule_set_id} draft ({rules})")


def _crossing(c: Crossing) -> str:
    def side(total: float | None, eligible: bool, vetoed: bool) -> str:
        if total is None:
            return "missing input"
        verdict = "vetoed" if vetoed else "pass" if eligible else "fail"
        return f"{total:g} ({verdict})"

    return (f"    {c.label}: {side(c.before.total, c.before.eligible, c.before.vetoed)} → "
            f"{side(c.after.total, c.after.eligible, c.after.vetoed)}")


def render(report: Report, rules: str, *, list_all: bool = False) -> str:
    """The report as text for the terminal."""
    lines = [f"Simulation of {_what(report, rules)} on {report.count:,} people "
             f"({report.source}), as of {report.as_of}"]
    if report.threshold is not None:
        lines.append(f"Pass mark: {report.threshold:g}")
    if report.against_version is not None:
        mark = (f", pass mark {report.baseline_threshold:g}"
                if report.baseline_threshold is not None else "")
        lines.append(f"Compared with version {report.against_version}{mark} "
                     "(its counts in brackets in the histogram)")
    lines += ["", terminal(report.histogram(), report.threshold), ""]
    lines.append(f"Scored:        {report.scored:,}")
    lines.append(f"Passed:        {report.passed:,} ({report.pass_rate:.1%})" + (
        f"; {report.baseline_passed:,} under version {report.against_version}"
        if report.against_version is not None else ""))
    lines.append(f"Vetoed:        {report.vetoed:,}")
    missing = ", ".join(f"{name} {count:,}" for name, count in sorted(report.missing.items()))
    lines.append(f"Missing input: {report.missing_count:,}" + (f" ({missing})" if missing else ""))
    if report.against_version is not None:
        lines.append(f"Total changed: {report.changed:,}")
        for title, crossings in (("Now pass", report.gained), ("Now fail", report.lost)):
            lines.append(f"{title} (crossing the pass mark): {len(crossings):,}")
            shown = crossings if list_all else crossings[:LIST_LIMIT]
            lines += [_crossing(c) for c in shown]
            if len(shown) < len(crossings):
                lines.append(f"    … and {len(crossings) - len(shown):,} more (--all lists them)")
    return "\n".join(lines)


def chart_svg(report: Report, rules: str) -> str:
    what = _what(report, rules)
    description = (f"Totals of {report.scored:,} people in bins of 10 points. "
                   f"{report.passed:,} pass ({report.pass_rate:.1%}), {report.vetoed:,} vetoed, "
                   f"{report.missing_count:,} missing an input.")
    if report.against_version is not None:
        description += (f" Outlines: version {report.against_version}, under which "
                        f"{report.baseline_passed:,} pass.")
    return svg(report.histogram(), title=f"{what}: distribution of totals",
               description=description, threshold=report.threshold,
               threshold_label=f"pass mark {report.threshold:g}" if report.threshold else "",
               series=(what, f"version {report.against_version}"
                       if report.against_version is not None else ""))
