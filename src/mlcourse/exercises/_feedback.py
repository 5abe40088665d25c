"""What ``check``, ``hint`` and ``solution`` return: objects that render themselves.

JupyterLab calls ``_repr_html_`` (a coloured box); a terminal or a plain ``print`` uses
``__str__``/``__repr__`` (plain text). Nothing here ever sees the expected answer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .spec import Outcome, Status

_STYLE = {
    # status: (label, icon, border colour, background colour)
    "correct": ("Correct", "\u2714", "#2e7d32", "#e8f5e9"),
    "partly_correct": ("Partly correct", "\u25d0", "#8d6e00", "#fff8e1"),
    "incorrect": ("Not quite", "\u2718", "#c62828", "#ffebee"),
    "not_attempted": ("Not attempted yet", "\u2026", "#6d6d6d", "#f5f5f5"),
    "error": ("Your code raised an error", "\u26a0", "#e65100", "#fff3e0"),
    "checker_error": ("The checker failed (not your fault)", "\u26a0", "#6a1b9a", "#f3e5f5"),
    "recorded": ("Answer recorded", "\u270e", "#1565c0", "#e3f2fd"),
    "missing": ("Exercise cell missing", "?", "#6d6d6d", "#f5f5f5"),
    "not_run": ("Not run", "\u2026", "#6d6d6d", "#f5f5f5"),
    "not_graded": ("Not graded", "\u2026", "#6d6d6d", "#f5f5f5"),
    "info": ("", "\u2139", "#1565c0", "#e3f2fd"),
}


@dataclass(frozen=True)
class Feedback:
    """The result of ``check(id)``: status, message and optional notes.

    ``status`` is a :data:`~mlcourse.exercises.spec.Status`: ``"correct"``,
    ``"partly_correct"``, ``"incorrect"``, ``"not_attempted"``, ``"error"`` (the learner's
    code raised) or ``"checker_error"`` (the checker itself failed).
    ``bool(feedback)`` is True only when correct, so ``assert check("q1")`` works in tests.
    """

    exercise_id: str
    title: str
    status: Status
    message: str
    score: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_outcome(
        cls, exercise_id: str, title: str, outcome: Outcome, notes: tuple[str, ...] = ()
    ) -> Feedback:
        return cls(exercise_id, title, outcome.status, outcome.message, outcome.score, notes)

    def __bool__(self) -> bool:
        return self.status == "correct"

    def _headline(self) -> str:
        label = _STYLE[self.status][0]
        if self.status == "partly_correct":
            label += f" ({self.score:.0%} of the points)"
        return f"{label} \u2014 {self.exercise_id}: {self.title}"

    def __str__(self) -> str:
        icon = _STYLE[self.status][1]
        lines = [f"{icon} {self._headline()}"]
        if self.message:
            lines.extend("  " + line for line in self.message.splitlines())
        lines.extend(f"  Note: {n}" for n in self.notes)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        _, icon, border, background = _STYLE[self.status]
        body = ""
        if self.message:
            if self.status == "error":  # a traceback: keep its layout
                body = f"<pre style='margin:.4em 0 0;white-space:pre-wrap'>{_e(self.message)}</pre>"
            else:
                body = f"<div style='margin-top:.3em'>{_prose(self.message)}</div>"
        notes = "".join(
            f"<div style='margin-top:.3em;font-style:italic'>Note: {_prose(n)}</div>"
            for n in self.notes
        )
        return (
            f"<div class='mlcourse-feedback mlcourse-{self.status}' "
            f"data-exercise='{_e(self.exercise_id)}' data-status='{self.status}' "
            f"style='border-left:5px solid {border};background:{background};"
            f"padding:.5em .8em;margin:.3em 0;color:#1a1a1a'>"
            f"<strong>{icon} {_prose(self._headline())}</strong>{body}{notes}</div>"
        )


@dataclass(frozen=True)
class Panel:
    """A hint, a solution or a notice: a title and a body (plain text or code)."""

    title: str
    body: str
    code: bool = False
    kind: str = "info"

    def __str__(self) -> str:
        body = self.body if not self.code else "\n".join("    " + x for x in self.body.split("\n"))
        return f"{self.title}\n{body}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        _, icon, border, background = _STYLE["info"]
        if self.code:
            body = f"<pre style='margin:.4em 0 0;white-space:pre-wrap'>{_e(self.body)}</pre>"
        else:
            body = f"<div style='margin-top:.3em'>{_prose(self.body)}</div>"
        return (
            f"<div class='mlcourse-{self.kind}' style='border-left:5px solid {border};"
            f"background:{background};padding:.5em .8em;margin:.3em 0;color:#1a1a1a'>"
            f"<strong>{icon} {_prose(self.title)}</strong>{body}</div>"
        )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _prose(text: str) -> str:
    """Escape ``text`` for HTML and show `backticked` names as code, as in the notebook text."""
    return _CODE_SPAN.sub(r"<code>\1</code>", _e(text))
