"""Credit that follows the relationship: what a mapped source answer gives a target question.

Pure functions over banks and answers (no database), shared by the pre-fill, the coverage view
and the benchmark. The rules, as the README and the pages state them:

- from an equal-to, equivalent-to or superset-of source the answer is carried (it counts at once);
- from a subset-of or intersects-with source it is proposed (it counts once the client confirms);
- no-relationship carries nothing;
- several sources for one target give the weakest answer, never the best: the lowest score, and
  N/A only when every source is N/A; the answer is carried only when every source that
  contributes to it carries;
- an answer crosses question types by score: the target option with the highest score not above
  the source's (Adaptive 1.0 -> Yes, Repeatable 0.67 -> Partially, Risk Informed 0.33 -> No);
  unscored answers (text, number, date) cross only to a question of the same type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.banks.answers import validate_answer
from core.banks.model import Answer, Bank, Question
from core.banks.question_types import QUESTION_TYPES
from core.errors import ValidationError

CARRIES = frozenset({"equal-to", "equivalent-to", "superset-of"})
PROPOSES = frozenset({"subset-of", "intersects-with"})


@dataclass(frozen=True)
class Link:
    """One mapping link as the rules read it."""

    source_key: str
    target_key: str
    relationship: str


@dataclass(frozen=True)
class Source:
    """A source answer that reaches a target: its question, answer and relationship."""

    question: str
    answer: Answer
    relationship: str


@dataclass(frozen=True)
class Credit:
    """What a target question gets: the answer, whether it is carried or proposed, and the
    sources it was drawn from (every contributing one, weakest first)."""

    target_key: str
    answer: Answer
    kind: str  # "carried" or "proposed"
    sources: tuple[Source, ...]


def translate(source: Question, answer: Answer, target: Question) -> Answer | None:
    """The source answer as an answer to the target question, or None when it cannot cross."""
    if answer.is_na:
        return Answer(None, True) if target.allow_na else None
    if answer.value is None:
        return None
    value = _value(source, answer.value, target)
    if value is None:
        return None
    try:
        value = validate_answer(target, value, False)
    except ValidationError:
        return None
    return None if value is None else Answer(value, False)


def _value(source: Question, value: object, target: Question) -> object:
    source_type, target_type = QUESTION_TYPES[source.type], QUESTION_TYPES[target.type]
    if not (source_type.scored and target_type.scored):
        return value if source.type == target.type else None
    if target_type.multiple:
        keys = {o.key for o in target.options}
        chosen = value if isinstance(value, list) else [value]
        return list(chosen) if source_type.multiple and set(chosen) <= keys else None
    same = next((o for o in target.options if o.key == value), None)
    score = source_type.score(source, value)
    if score is None:
        return None
    if same is not None and same.score == score:
        return same.key
    below = [o for o in target.options if o.score is not None and o.score <= score + 1e-9]
    return max(below, key=lambda o: o.score or 0.0).key if below else None


def score_of(question: Question, answer: Answer) -> float | None:
    """The answer's score on its question; None for N/A, no answer or an unscored type."""
    if answer.is_na or answer.value is None:
        return None
    return QUESTION_TYPES[question.type].score(question, answer.value)


def weakest(target: Question, candidates: list[tuple[Answer, Source]]) -> list[int]:
    """Indexes of the candidates holding the weakest answer: the lowest score (N/A only when all
    are N/A); for unscored types, every candidate when they agree, else none."""
    valued = [i for i, (a, _) in enumerate(candidates) if not a.is_na]
    if not valued:
        return list(range(len(candidates)))
    scores = [score_of(target, candidates[i][0]) for i in valued]
    if any(s is None for s in scores):  # unscored: only an agreed value crosses
        values = {repr(candidates[i][0].value) for i in valued}
        return valued if len(values) == 1 else []
    low = min(s for s in scores if s is not None)
    return [i for i, s in zip(valued, scores, strict=True) if s is not None and s <= low + 1e-9]


def credit(
    source_bank: Bank, answers: Mapping[str, Answer], target_bank: Bank, links: Iterable[Link]
) -> dict[str, Credit]:
    """What each target question gets from the source answers through the links, by key."""
    by_target: dict[str, list[tuple[Answer, Source]]] = {}
    source_keys = {q.key for q in source_bank.questions}
    target_keys = {q.key for q in target_bank.questions}
    for link in links:
        if link.relationship not in CARRIES | PROPOSES:
            continue
        if link.source_key not in source_keys or link.target_key not in target_keys:
            continue
        answer = answers.get(link.source_key)
        if answer is None:
            continue
        target = target_bank.question(link.target_key)
        crossed = translate(source_bank.question(link.source_key), answer, target)
        if crossed is not None:
            source = Source(link.source_key, answer, link.relationship)
            by_target.setdefault(link.target_key, []).append((crossed, source))
    result: dict[str, Credit] = {}
    for key, candidates in by_target.items():
        chosen = weakest(target_bank.question(key), candidates)
        if not chosen:
            continue
        order = chosen + [i for i in range(len(candidates)) if i not in chosen]
        sources = tuple(candidates[i][1] for i in order)
        carried = all(s.relationship in CARRIES for _, s in candidates)
        kind = "carried" if carried else "proposed"
        result[key] = Credit(key, candidates[chosen[0]][0], kind, sources)
    return result
