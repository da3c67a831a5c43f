"""Question banks: the schema, its validation and YAML input/output."""

from core.banks.answers import is_visible, validate_answer
from core.banks.model import Answer, Bank, Condition, Option, Question, Section
from core.banks.options import DEFAULT_MATURITY_SCALE, YES_NO_OPTIONS, YES_NO_PARTIAL_OPTIONS
from core.banks.question_types import QUESTION_TYPES, SCORED_TYPES, QuestionType
from core.banks.schema import parse_bank
from core.banks.yaml_io import dump_bank, load_bank_file, load_bank_text, shipped_bank_paths

__all__ = [
    "DEFAULT_MATURITY_SCALE",
    "QUESTION_TYPES",
    "SCORED_TYPES",
    "YES_NO_OPTIONS",
    "YES_NO_PARTIAL_OPTIONS",
    "Answer",
    "Bank",
    "Condition",
    "Option",
    "Question",
    "QuestionType",
    "Section",
    "dump_bank",
    "is_visible",
    "load_bank_file",
    "load_bank_text",
    "parse_bank",
    "shipped_bank_paths",
    "validate_answer",
]
