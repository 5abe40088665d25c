"""The batch autograder: grades that student code cannot fake.

Pipeline (design §6, ``docs/grading.md``): intake (trusted) → execute and probe in a sandbox
(untrusted; plain JSON out) → judge against the reference solution run on the same data
variant (trusted) → record in an SQLite gradebook → export (CSV, feedback, Gradescope).

Entry points: ``mlcourse grade`` (:mod:`mlcourse.grading.cli`), ``mlcourse gradescope-bundle``
(:mod:`mlcourse.grading.gradescope`) and :func:`mlcourse.grading.engine.grade_batch`.
"""

from mlcourse import __version__ as _package_version

#: bump when a change can alter grades; part of every gradebook key
GRADER_VERSION = f"{_package_version}+g2"

__all__ = ["GRADER_VERSION"]
