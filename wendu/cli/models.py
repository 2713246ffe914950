"""`wendu models ...`: train, list, evaluate and explain the ML scorers.

Models are files in the data dir (scorers/artifacts.py); nothing here touches the database or
the network. Tabular models (attrition, burnout) are evaluated and checked for fairness here;
the other models' held-out metrics come from their cards.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from wendu.cli.common import DataDir, UserError, load_settings

app = typer.Typer(help="Train, list, evaluate and explain the ML scorers.",
                  no_args_is_help=True, add_completion=False)

TABULAR = ("attrition", "burnout")
EVAL_EMPLOYEES = 5000

DataFile = Annotated[
    Path | None,
    typer.Option("--data", help="A CSV in the IBM HR Analytics attrition layout "
                 "(default: the generated company).", dir_okay=False),
]


def _data_dir(data_dir: Path | None) -> Path:
    return load_settings(data_dir=data_dir).data_dir


def _progress(name: str):
    def report(step: str, fraction: float) -> None:
        typer.echo(f"  [{name}] {fraction:4.0%} {step}")
    return report


@app.command()
def train(
    name: Annotated[str | None, typer.Argument(help="Model to train (default: all).")] = None,
    data: DataFile = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data and the splits.")] = 7,
    data_dir: DataDir = None,
) -> None:
    """Train a model (or all) and make the new version the active one."""
    from wendu.scorers.trainers import TRAINERS, TrainOptions, trainer

    if name is not None and name not in TRAINERS:
        raise UserError(f"unknown model {name!r}; models: {', '.join(sorted(TRAINERS))}")
    if data is not None and name is None:
        raise UserError("--data needs a model name, e.g. wendu models train attrition --data "
                        f"{data}")
    if data is not None and not data.is_file():
        raise UserError(f"--data: no such file {data}")
    root = _data_dir(data_dir)
    for each in [name] if name else list(TRAINERS):
        module = TRAINERS[each].split(":")[0]
        if importlib.util.find_spec(module) is None:
            typer.echo(f"skip {each}: {module} is not part of this installation yet")
            continue
        typer.echo(f"training {each} ...")
        try:
            art = trainer(each)(TrainOptions(root, data, seed, _progress(each)))
        except ValueError as exc:  # bad data: the message names the file, line or column
            raise UserError(str(exc)) from None
        for note in art.card.get("data_notes", []):
            typer.echo(f"  note: {note}")
        typer.echo(f"{each} {art.version}: {_headline(art.card)}")


def _headline(card: dict[str, Any]) -> str:
    """The card's numeric metrics on one line, split by split (held-out, CV, ...)."""
    parts = []
    for split, values in card.get("metrics", {}).items():
        if isinstance(values, dict):
            parts += [f"{split} {k} {v:.3f}" for k, v in values.items()
                      if k not in ("rows", "positive_rate") and isinstance(v, int | float)]
        elif isinstance(values, int | float):
            parts.append(f"{split} {values:.3f}")
    return ", ".join(parts) or "no metrics in the card"


LIST_HEADER = "  MODEL\tVERSION\tMETRICS, OR WHAT IT RUNS ON  (* = the one in use)"


def _builtin(scorer: Any) -> str:
    """What a scorer without a trained artifact runs on."""
    from wendu.scorers.text_models import TEXT_SCORERS

    if isinstance(scorer, TEXT_SCORERS):
        return (f"built in: trained from the shipped corpora when first used (`wendu models "
                f"train {scorer.name}` versions it)")
    if scorer.name in TABULAR:
        return f"baseline formula (`wendu models train {scorer.name}` trains a model)"
    if scorer.name == "course_recommendation":
        return "courses by content (`wendu models train course_recommendation` adds who took what)"
    return "formula, no training needed"


def _version(scorer: Any) -> str:
    from wendu.scorers.text_models import TEXT_SCORERS

    # A text scorer's version is known once it has trained (seconds): not worth it for a list.
    return "built-in" if isinstance(scorer, TEXT_SCORERS) else scorer.model_version


@app.command("list")
def list_models(data_dir: DataDir = None) -> None:
    """Every scorer a rule can name: its trained versions, or what it runs on without one."""
    from wendu.scorers import artifacts
    from wendu.scorers.registry import ScorerRegistry

    root = _data_dir(data_dir)
    registry = ScorerRegistry.default(root)
    typer.echo(LIST_HEADER)
    for name in sorted(set(registry.names()) | set(artifacts.names(root))):
        active = artifacts.active_version(root, name)
        for version in artifacts.versions(root, name):
            card = artifacts.card(root, name, version)
            mark = "*" if version == active else " "
            typer.echo(f"{mark} {name}\t{version}\t{_headline(card)}")
        if active is None and name in registry.names():
            typer.echo(f"* {name}\t{_version(registry.get(name))}\t{_builtin(registry.get(name))}")


@app.command()
def card(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Option(help="Default: the active version.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Print a model's card (JSON): features, metrics, fairness, intended use and limits.

    Without a trained version, the card of the model the scorer runs on (a text scorer's
    built-in model, the one profiles are scored with)."""
    from wendu.scorers import artifacts
    from wendu.scorers.registry import ScorerRegistry

    root = _data_dir(data_dir)
    try:
        found = artifacts.card(root, name, version)
    except artifacts.ArtifactError as exc:
        registry = ScorerRegistry.default(root)
        builtin = registry.get(name) if version is None and name in registry.names() else None
        if builtin is None or not hasattr(type(builtin), "card"):
            raise UserError(str(exc)) from None
        found = builtin.card
    typer.echo(json.dumps(found, indent=2, ensure_ascii=False))


def _load_tabular(name: str, root: Path):
    from wendu.scorers.artifacts import ArtifactError, load

    if name not in TABULAR:
        return None
    try:
        return load(root, name)
    except ArtifactError as exc:
        raise UserError(str(exc)) from None


def _evaluation_data(art: Any, data: Path | None, seed: int):
    """(columns, y, n, where) for a tabular model: fresh generated people, or the user's CSV."""
    from wendu.scorers.features import DataError, company_columns, read_ibm_csv
    from wendu.scorers.synth import generate

    layout = art.model.encoder.layout
    if layout == "ibm" and data is None:
        raise UserError(f"{art.name} was trained on {art.card.get('source')}; pass --data FILE")
    if layout == "company" and data is not None:
        raise UserError(f"{art.name} was trained on the generated company and cannot read the "
                        "IBM layout; retrain it with --data to use that file")
    if data is not None:
        try:
            table = read_ibm_csv(data)
        except DataError as exc:
            raise UserError(str(exc)) from None
        return table.columns, table.target, len(table.target), str(data)
    # A seed the model never trained on: new people from the same causal structure.
    if seed == art.card.get("seed"):
        seed += 1
    company = generate(EVAL_EMPLOYEES, 26, seed)
    y = (company.left if art.name == "attrition" else company.burnout).astype(int)
    return company_columns(company), y, len(y), f"generated company (seed {seed})"


@app.command()
def evaluate(
    name: Annotated[str, typer.Argument(help="Model name.")],
    data: DataFile = None,
    seed: Annotated[int, typer.Option(help="Seed of the fresh evaluation company.")] = 1001,
    data_dir: DataDir = None,
) -> None:
    """Score data the model has not seen and print ROC-AUC, PR-AUC and Brier score."""
    from wendu.scorers.attrition import _metrics

    root = _data_dir(data_dir)
    art = _load_tabular(name, root)
    if art is None:
        from wendu.scorers import artifacts

        try:
            found = artifacts.card(root, name)
        except artifacts.ArtifactError as exc:
            raise UserError(str(exc)) from None
        typer.echo(f"{name} {found['version']} held-out metrics from its card:")
        typer.echo(json.dumps(found.get("metrics", {}), indent=2, ensure_ascii=False))
        return
    columns, y, n, where = _evaluation_data(art, data, seed)
    X, _ = art.model.encoder.matrix(columns, n)
    metrics = _metrics(y, art.model.predict(X))
    typer.echo(f"{name} {art.version} on {where}:")
    for key, value in metrics.items():
        typer.echo(f"  {key:<14}{value}")


@app.command()
def fairness(
    name: Annotated[str, typer.Argument(help="Model name (attrition or burnout).")],
    data: DataFile = None,
    seed: Annotated[int, typer.Option(help="Seed of the fresh evaluation company.")] = 1001,
    threshold: Annotated[float | None, typer.Option(
        min=0, max=1, help="Risk at which a person counts as flagged (default: the threshold "
        "the rules act at, else the model card's).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Flag rate and true-positive rate by gender, age band and department (4/5 rule), at
    the threshold the rules act at."""
    from wendu.scorers import fairness as fair
    from wendu.scorers.features import FAIRNESS_GROUPS

    art = _load_tabular(name, _data_dir(data_dir))
    if art is None:
        raise UserError(f"fairness is reported for {', '.join(TABULAR)}; {name} is not one")
    columns, y, n, where = _evaluation_data(art, data, seed)
    groups = {g: columns[g] for g in FAIRNESS_GROUPS if g in columns}
    if not groups:
        raise UserError(f"{where} has none of the columns Gender, Age, Department")
    X, _ = art.model.encoder.matrix(columns, n)
    why = "--threshold"
    if threshold is None:
        threshold, why = _rule_threshold(name, art.card, data_dir)
    rep = fair.report(y, art.model.predict(X) >= threshold, groups)
    typer.echo(f"{name} {art.version} on {where}, flagged at risk >= {threshold} ({why}):")
    typer.echo(fair.format_report(rep))


def _rule_threshold(name: str, card: dict[str, Any], data_dir: Path | None) -> tuple[float, str]:
    """The lowest threshold a rule acts on `name` at (the rules folder, else the shipped
    library), and where it comes from; the card's when no rule acts on the model."""
    from wendu.demo.library import LIBRARY
    from wendu.rule_thresholds import thresholds
    from wendu.rules.ruleset import load_ruleset

    folder = load_settings(data_dir=data_dir).rules_dir or LIBRARY
    found = thresholds(load_ruleset([folder]).plans, name)
    if not found:
        return float(card.get("flag_threshold", 0.35)), f"the model card's; no rule in {folder}"
    rule, value = min(found, key=lambda pair: pair[1])
    others = "" if len(found) == 1 else f"; others: {', '.join(f'{r} {v}' for r, v in found)}"
    return value, f"rule {rule}'s threshold{others}"


def demo_generate(employees: int, weeks: int, seed: int, out: Path, events: bool = True) -> None:
    """Body of `wendu demo generate`: write the synthetic company as CSV files."""
    from wendu.scorers.features import write_ibm_layout
    from wendu.scorers.synth import generate, write

    try:
        company = generate(employees, weeks, seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    written = write(company, out)
    written["attrition_ibm.csv"] = write_ibm_layout(company, out / "attrition_ibm.csv")
    if events:
        from wendu.demo.history import write_events

        # The same history as catalog events, for `wendu rules backtest --events` and
        # `wendu demo import`.
        written["events.jsonl"] = write_events(company, out / "events.jsonl")
    typer.echo(f"synthetic company: {employees} employees, {weeks} weeks, seed {seed} -> {out}")
    for file, rows in written.items():
        typer.echo(f"  {file}\t{rows} rows")
    typer.echo(f"  left within 26 weeks: {company.left.mean():.1%}, "
               f"burned out within 8 weeks: {company.burnout.mean():.1%}")
