"""The front page: a SPARQL editor (YASGUI) posting to ``/sparql``, with the competency
questions (``queries/*.rq``) as ready examples. The endpoint declares the project's prefixes
for every query, so a new query needs no PREFIX lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template

from graph.core.links import prefixes

bp = Blueprint("editor", __name__)

DEFAULT_BODY = """SELECT ?resource ?label WHERE {
  ?resource a ag:Country ; skos:prefLabel ?label .
} LIMIT 25"""


@dataclass(frozen=True)
class Example:
    """A ready query: its title (the first ``# `` comment line) and text."""

    name: str
    title: str
    text: str


def load_examples(folder: Path) -> list[Example]:
    """Every ``*.rq`` file in ``folder``, titled by its first ``# `` comment line.

    >>> load_examples(Path("/nonexistent"))
    []
    """
    examples = []
    for path in sorted(folder.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        title = first[2:].strip() if first.startswith("# ") else path.stem
        examples.append(Example(path.stem, title, text))
    return examples


@bp.get("/")
def index() -> str:
    """The query editor."""
    base = str(current_app.config["BASE_IRI"])
    folder = Path(current_app.config["PROJECT_DIR"]) / "queries"
    examples = load_examples(folder)
    return render_template(
        "query.html",
        examples=examples,
        examples_json=[{"title": e.title, "text": e.text} for e in examples],
        default_query=DEFAULT_BODY,
        prefixes=prefixes(base),
        base=base,
    )


def init_app(app: Flask) -> None:
    """Register the front page."""
    app.register_blueprint(bp)
