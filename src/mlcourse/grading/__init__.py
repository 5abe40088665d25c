"""The batch autograder: grades that student code cannot fake.

Pipeline (design §6, ``docs/grading.md``): intake (trusted) → execute and probe in a sandbox
(untrusted; plain JSON out) → judge against the reference solution run on the same data
variant (trusted) → record in an SQLite gradebook → export (CSV, feedback, Gradescope).

Entry points: ``mlcourse grade`` (:mod:`mlcourse.grading.cli`), ``mlcourse gradescope-bundle``
(:mod:`mlcourse.grading.gradescope`) and :func:`mlcourse.grading.engine.grade_batch`.
"""

import sys as _sys

from mlcourse import __version__ as _package_version

# nbformat validates notebooks with jsonschema, which imports the optional IRI checker
# rfc3987-syntax when it is installed (JupyterLab's jupyter-events pulls it in): building its
# 38 grammars takes 1-1.6 s, the largest part of the grader's start. nbformat's schema has no
# IRI field, so the grader's process goes without it (jsonschema skips formats it cannot
# check). Only when jsonschema is not imported yet: a process that already uses it keeps it.
if "jsonschema" not in _sys.modules:
    _sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

#: bump when a change can alter grades; part of every gradebook key
GRADER_VERSION = f"{_package_version}+g2"

__all__ = ["GRADER_VERSION"]
