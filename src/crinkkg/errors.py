"""Errors a user can act on: what went wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field


class CrinkError(Exception):
    """Base class: every error the CLI prints without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")

    def as_dict(self) -> dict[str, object]:
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class InputSyntaxError(CrinkError):
    """An input file does not parse."""

    exit_code = 2

    def __init__(self, path: str, line: int | None, column: int | None, detail: str,
                 text: str | None = None) -> None:
        where = path + (f":{line}" if line else "") + (f":{column}" if column else "")
        message = f"{where}: syntax error: {detail}"
        if text is not None:
            message += f"\n    {text.rstrip()}"
            if column:
                message += "\n    " + " " * (column - 1) + "^"
        super().__init__(message, hint="fix the file at that position and run the build again")
        self.path, self.line, self.column, self.detail, self.text = path, line, column, detail, text

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "file": self.path, "line": self.line, "column": self.column}


@dataclass
class Violation:
    """One SHACL result, in the terms a data editor uses."""

    focus: str
    path: str | None
    message: str
    severity: str = "Violation"
    shape: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.focus + (f" / {self.path}" if self.path else "")
        extra = f" (value: {self.value})" if self.value else ""
        return f"{self.severity}: {where}: {self.message}{extra}"


class ValidationError(CrinkError):
    """The data does not conform to the SHACL shapes."""

    exit_code = 3

    def __init__(self, violations: list[Violation]) -> None:
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(
            f"SHACL validation failed with {len(violations)} violation(s):\n{lines}",
            hint="fix the data (or the shapes in ontology/shapes.ttl) and run the build again",
        )
        self.violations = violations

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "violations": [vars(v) for v in self.violations]}


@dataclass
class Inconsistency:
    message: str
    resources: list[str] = field(default_factory=list)


class InconsistencyError(CrinkError):
    """The OWL 2 RL reasoner found a contradiction."""

    exit_code = 4

    def __init__(self, problems: list[Inconsistency]) -> None:
        lines = "\n".join(f"  - {p.message}" for p in problems)
        super().__init__(
            f"the ontology and data are inconsistent under OWL 2 RL ({len(problems)} problem(s)):"
            f"\n{lines}",
            hint="a resource is typed with disjoint classes or breaks an axiom: fix the data",
        )
        self.problems = problems

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "problems": [vars(p) for p in self.problems]}


@dataclass
class Drift:
    """One anchor that does not match its stored text."""

    file: str
    claim: str
    problem: str
    expected: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        detail = ""
        if self.expected is not None:
            detail = f"\n      expected: {self.expected!r}\n      found:    {self.found!r}"
        return f"{self.file}: {self.claim}: {self.problem}{detail}"


class AnchorError(CrinkError):
    """A claim's text anchor, or a stored source text, does not match."""

    exit_code = 3

    def __init__(self, drifts: list[Drift]) -> None:
        lines = "\n".join(f"  - {d}" for d in drifts)
        super().__init__(
            f"{len(drifts)} text anchor(s) do not match the stored source text:\n{lines}",
            hint="fix the selector (`crinkkg anchor SOURCE \"exact words\"` prints correct "
                 "ones) or, if the stored text changed on purpose, its crink:sha256")
        self.drifts = drifts

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "drifts": [vars(d) for d in self.drifts]}


class StoreError(CrinkError):
    """The store is missing, locked or unreadable."""

    exit_code = 5
