"""One error hierarchy for OneGrid.

Every error a user can cause is a :class:`OneGridError` with an HTTP status and a short
machine code; the CLI prints ``message``, the UI shows it, the APIs answer it as a 4xx body.
Anything else reaching the top is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class OneGridError(Exception):
    """Base class: a problem the caller can act on."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class ConfigError(OneGridError):
    status = 500
    code = "config"


class DatabaseUnavailable(OneGridError):
    status = 503
    code = "database_unavailable"


class InvalidInput(OneGridError):
    code = "invalid_input"


class InvalidBBox(InvalidInput):
    code = "invalid_bbox"


class InvalidCoordinate(InvalidInput):
    code = "invalid_coordinate"


class InvalidGeometry(InvalidInput):
    code = "invalid_geometry"


class MissingCRS(InvalidInput):
    code = "missing_crs"


class CRSMismatch(InvalidInput):
    code = "crs_mismatch"


class DuplicateCode(InvalidInput):
    code = "duplicate_code"


class OutsideArea(InvalidInput):
    code = "outside_area"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class TooManyFeatures(OneGridError):
    status = 413
    code = "too_many_features"


class NotFound(OneGridError):
    status = 404
    code = "not_found"


class Conflict(OneGridError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class Problem:
    """One bad record in an input file: where it is and what is wrong."""

    where: str  # e.g. "line 14" or "feature 3 (code 310113001001001)"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class ImportRejected(InvalidInput):
    """An import found problems; nothing was written."""

    code = "import_rejected"

    def __init__(self, problems: list[Problem], *, shown: int = 20):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:shown]]
        more = len(self.problems) - shown
        if more > 0:
            lines.append(f"… and {more} more")
        head = f"import rejected, nothing written ({len(self.problems)} problem(s)):"
        super().__init__("\n".join([head, *("  " + line for line in lines)]))

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "problems": [{"where": p.where, "reason": p.reason} for p in self.problems],
        }
