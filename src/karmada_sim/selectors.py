"""Label and field selectors with the apiserver's grammar (`k in (a,b)`, `!k`, `f!=v`, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from karmada_sim.errors import bad_request

_NO_LABELS: Mapping[str, str] = {}
_OPERATORS = ("==", "!=", "=", "(", ")", ",", "!", ">", "<")
_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector: `key op values`."""

    key: str
    op: str  # exists, !, =, !=, in, notin, gt, lt
    values: frozenset[str] = frozenset()

    @property
    def value(self) -> str:
        """The single value of `=`, `!=`, `gt` and `lt` clauses."""
        return next(iter(self.values))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies this clause."""
        return self.compile()(labels)

    def compile(self) -> Callable[[Mapping[str, str]], bool]:
        """A fast predicate for this clause (LISTs evaluate it once per object)."""
        key, op, values = self.key, self.op, self.values
        if op == "=":
            value = self.value
            return lambda labels: labels.get(key) == value
        if op == "!=":
            value = self.value
            return lambda labels: labels.get(key) != value
        if op == "exists":
            return lambda labels: key in labels
        if op == "!":
            return lambda labels: key not in labels
        if op == "in":
            return lambda labels: labels.get(key) in values
        if op == "notin":
            return lambda labels: labels.get(key) not in values
        bound = int(self.value)
        greater = op == "gt"

        def compare(labels: Mapping[str, str]) -> bool:
            try:
                have = int(labels[key])
            except (KeyError, ValueError):
                return False
            return have > bound if greater else have < bound

        return compare


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()
    _predicates: tuple[Callable[[Mapping[str, str]], bool], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_predicates", tuple(r.compile() for r in self.requirements))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels is selected."""
        have = labels or _NO_LABELS
        # A plain loop rather than all(...): this runs once per object on every LIST.
        for predicate in self._predicates:  # noqa: SIM110
            if not predicate(have):
                return False
        return True

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        two = text[i : i + 2]
        if two in ("==", "!="):
            tokens.append(two)
            i += 2
            continue
        if ch in "=(),!><":
            tokens.append(ch)
            i += 1
            continue
        start = i
        while i < len(text) and not text[i].isspace() and text[i] not in "=(),!><":
            i += 1
        tokens.append(text[start:i])
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def fail(self, found: str | None, expected: str) -> Exception:
        shown = found if found is not None else ""
        return bad_request(f"unable to parse requirement: found '{shown}', expected: {expected}")

    def identifier(self, what: str) -> str:
        tok = self.take()
        if tok is None or tok in _OPERATORS:
            raise self.fail(tok, what)
        return tok

    def key(self) -> str:
        key = self.identifier("identifier")
        if not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
            raise bad_request(
                f'unable to parse requirement: key: Invalid value: "{key}": name part must '
                "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character"
            )
        return key

    def value(self) -> str:
        tok = self.peek()
        # An empty value is legal: `k=` selects objects whose label k is "".
        if tok is None or tok in (",", ")"):
            return ""
        value = self.identifier("identifier")
        if len(value) > 63 or not _VALUE.match(value):
            raise bad_request(
                f'unable to parse requirement: values[0]: Invalid value: "{value}": a valid '
                "label must be an empty string or consist of alphanumeric characters, '-', "
                "'_' or '.', and must start and end with an alphanumeric character"
            )
        return value

    def value_set(self) -> frozenset[str]:
        if self.take() != "(":
            raise self.fail(
                self.tokens[self.pos - 1] if self.pos <= len(self.tokens) else None, "'('"
            )
        values: set[str] = set()
        while True:
            values.add(self.value())
            tok = self.take()
            if tok == ")":
                return frozenset(values)
            if tok != ",":
                raise self.fail(tok, "',' or ')'")

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            return Requirement(self.key(), "!")
        key = self.key()
        op = self.peek()
        if op is None or op == ",":
            return Requirement(key, "exists")
        self.take()
        if op in ("=", "=="):
            return Requirement(key, "=", frozenset({self.value()}))
        if op == "!=":
            return Requirement(key, "!=", frozenset({self.value()}))
        if op in ("in", "notin"):
            return Requirement(key, op, self.value_set())
        if op in (">", "<"):
            bound = self.identifier("integer")
            if not bound.lstrip("-").isdigit():
                raise bad_request(
                    f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                    f"an integer: {bound}"
                )
            return Requirement(key, "gt" if op == ">" else "lt", frozenset({bound}))
        raise self.fail(op, "'=', '!=', '==', 'in', notin'")

    def parse(self) -> LabelSelector:
        reqs: list[Requirement] = []
        if self.peek() is None:
            return LabelSelector()
        while True:
            reqs.append(self.requirement())
            tok = self.take()
            if tok is None:
                return LabelSelector(tuple(reqs))
            if tok != ",":
                raise self.fail(tok, "','")
            if self.peek() is None:
                raise self.fail(None, "identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a `labelSelector` query string; a syntax error is a 400 BadRequest."""
    return _Parser(text.strip()).parse()


def label_selector_from_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Build a selector from a `metav1.LabelSelector` (`matchLabels` and `matchExpressions`).

    `None` selects nothing in Kubernetes' API types, but callers pass `{}` to select everything.
    """
    if selector is None:
        return LabelSelector((Requirement("\x00never", "exists"),))
    reqs = [
        Requirement(str(k), "=", frozenset({str(v)}))
        for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is None:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(str(expr["key"]), op, frozenset(expr.get("values") or ())))
    return LabelSelector(tuple(reqs))


@dataclass(frozen=True)
class FieldRequirement:
    """One clause of a field selector: `field = value` or `field != value`."""

    field: str
    value: str
    negate: bool


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector; the empty selector matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether an object is selected."""
        for req in self.requirements:
            have = field_value(obj, req.field)
            if (have == req.value) == req.negate:
                return False
        return True

    def matches_values(self, values: Mapping[str, str]) -> bool:
        """Whether precomputed field values (path -> string) are selected."""
        for req in self.requirements:
            if (values.get(req.field, "") == req.value) == req.negate:
                return False
        return True

    def exact(self, field: str) -> str | None:
        """The value this selector pins `field` to with `=`, if any (used to narrow lookups)."""
        for req in self.requirements:
            if req.field == field and not req.negate:
                return req.value
        return None


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string value of a dotted field path (`status.phase`); missing fields read as ""."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def parse_field_selector(text: str, allowed: tuple[str, ...]) -> FieldSelector:
    """Parse a `fieldSelector`; a field outside `allowed` is a 400 as the apiserver answers it."""
    text = text.strip()
    if not text:
        return FieldSelector()
    reqs: list[FieldRequirement] = []
    for clause in text.split(","):
        clause = clause.strip()
        for op, negate in (("!=", True), ("==", False), ("=", False)):
            if op in clause:
                field, value = clause.split(op, 1)
                reqs_negate = negate
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{clause}'")
        field = field.strip()
        if field not in allowed:
            quoted = ", ".join(f'"{name}"' for name in allowed)
            raise bad_request(f'"{field}" is not a known field selector: only {quoted}')
        reqs.append(FieldRequirement(field, value.strip(), reqs_negate))
    return FieldSelector(tuple(reqs))
