"""Mutation testing of the checkers: ``make mutants`` (``python -m mlcourse.mutants``).

For every exercise of every notebook, the reference answer (the solution regions of the
exercise's cell in ``solutions/NN_*.ipynb``) is parsed with :mod:`ast` and small, realistic
faults are injected one at a time (*mutants*): a number moved, a comparison flipped, a list
element dropped, a scikit-learn class or parameter swapped, a statement deleted, a model fitted
on the test rows, ... Each mutant runs in place of the reference in a kernel that executed the
solution notebook, and the exercise's own ``check`` judges it. A mutant is **killed** when the
verdict is anything but "correct" and **survives** when the checker calls it correct: either
the checker is too weak (better probe data or a better judge kills it) or the mutant is truly
equivalent, which is declared in ``tests/catalogues/nbNN.py`` as
``EQUIVALENT = {exercise_id: {mutant_id: "one-line reason"}}``.

The last line of the report is ``mutation score: K of N mutants killed (P %)``, N counting
every mutant not declared equivalent. See "Mutation testing" in ``docs/authoring.md``.

Usage::

    python -m mlcourse.mutants [--only STEM ...] [--exercise ID ...] [--jobs N] [--list]
                               [--show MUTANT_ID] [--json PATH] [--cap N] [--fit-cap N]
                               [--timeout S]
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import functools
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# operator tables
# --------------------------------------------------------------------------------------------

#: order of the operators in reports and in the round-robin of the per-exercise cap
OPERATORS: tuple[str, ...] = (
    "choice",  # a multiple-choice answer replaced by each other option
    "const",  # numbers moved: n -> n+1, n-1, 2n, 0; floats x0.5, x2
    "cmp",  # < <-> <=, > <-> >=, == <-> !=, in <-> not in, is <-> is not
    "bool",  # True <-> False
    "str",  # known parameter values swapped ('ward' -> 'average', 'mean' -> 'median', ...)
    "class",  # common scikit-learn classes swapped (OneHotEncoder -> OrdinalEncoder, ...)
    "method",  # method names swapped (mean <-> median, sum -> mean, min <-> max, ...)
    "rows",  # fit on the wrong rows: X_train -> X_test, y_train -> y_test, train -> test
    "kwarg",  # one keyword argument removed
    "drop",  # one element of a list/tuple/set/dict, a & | + operand, an and/or operand dropped
    "arith",  # + <-> -, * <-> /, // -> /
    "unary",  # not x -> x, ~x -> x, -x -> x
    "delete",  # one statement deleted
)

#: keyword arguments whose value changes no answer a task asks for: never mutated or removed
NEUTRAL_KWARGS = frozenset({"random_state", "n_jobs", "verbose"})

#: string constants that are known parameter values, grouped by the parameter they set
STRING_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ward", "average", "complete", "single"),
    ("maxclust", "distance", "inconsistent"),
    ("infrequent_if_exist", "ignore", "error"),
    ("mean", "median", "sum", "max", "min", "nunique", "count"),
    ("left", "right", "inner"),
)

#: method (attribute) names swapped
METHOD_SWAPS: dict[str, tuple[str, ...]] = {
    "mean": ("median", "sum"),
    "median": ("mean",),
    "sum": ("mean",),
    "nunique": ("count",),
    "count": ("nunique",),
    "min": ("max",),
    "max": ("min",),
}

#: scikit-learn classes swapped, and the module each is imported from in the mutated cell
CLASS_SWAPS: dict[str, tuple[str, ...]] = {
    "OneHotEncoder": ("OrdinalEncoder",),
    "OrdinalEncoder": ("OneHotEncoder",),
    "TargetEncoder": ("OneHotEncoder",),
    "LogisticRegression": ("HistGradientBoostingClassifier", "RandomForestClassifier"),
    "HistGradientBoostingClassifier": ("LogisticRegression", "RandomForestClassifier"),
    "RandomForestClassifier": ("LogisticRegression",),
    "StandardScaler": ("MinMaxScaler", "RobustScaler"),
    "MinMaxScaler": ("StandardScaler",),
    "RobustScaler": ("StandardScaler",),
    "AgglomerativeClustering": ("KMeans",),
    "KMeans": ("AgglomerativeClustering",),
}
CLASS_MODULES: dict[str, str] = {
    "OneHotEncoder": "sklearn.preprocessing",
    "OrdinalEncoder": "sklearn.preprocessing",
    "TargetEncoder": "sklearn.preprocessing",
    "StandardScaler": "sklearn.preprocessing",
    "MinMaxScaler": "sklearn.preprocessing",
    "RobustScaler": "sklearn.preprocessing",
    "LogisticRegression": "sklearn.linear_model",
    "HistGradientBoostingClassifier": "sklearn.ensemble",
    "RandomForestClassifier": "sklearn.ensemble",
    "AgglomerativeClustering": "sklearn.cluster",
    "KMeans": "sklearn.cluster",
}

#: names swapped by the ``rows`` operator (all of them at once inside one call)
ROW_SWAPS: dict[str, str] = {
    "X_train": "X_test",
    "y_train": "y_test",
    "train": "test",
    "X_test": "X_train",
    "y_test": "y_train",
    "test": "train",
}

_CMP_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_ARITH_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
}
_DROP_BINOPS = (ast.Add, ast.BitAnd, ast.BitOr)
_SYMBOLS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
}

#: default caps on the number of mutants run per exercise (see :func:`select`)
DEFAULT_CAP = 60
DEFAULT_FIT_CAP = 24
DEFAULT_TIMEOUT = 60


# --------------------------------------------------------------------------------------------
# mutants of one snippet
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnippetMutant:
    """One mutant of a code snippet.

    ``line`` (1-based) and ``col`` (0-based, characters) locate the mutated node in the
    snippet; ``source`` is the whole mutated snippet; ``imports`` are the import lines the
    mutant needs (a swapped-in class).
    """

    operator: str
    line: int
    col: int
    detail: str
    source: str
    imports: tuple[str, ...] = ()


@dataclass
class _Edit:
    operator: str
    node: ast.AST  # the node of the ORIGINAL tree that is replaced (or deleted)
    detail: str
    make: Callable[[ast.AST], ast.AST | None]  # copy of node -> replacement (None: delete)
    imports: tuple[str, ...] = ()
    anchor: ast.AST | None = None  # node whose position names the mutant (default: node)
    retext: Callable[[str], str] | None = None  # original span text -> mutated text
    gap: tuple[ast.AST, ast.AST, str, str] | None = None  # operator token between two operands
    edit: Callable[[str], str] | None = None  # whole source -> mutated source (layout kept)


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        out[id(child)] = (parent, name, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (parent, name, None)
    return out


def _is_docstring(node: ast.AST, parents: Mapping[int, tuple[ast.AST, str, int | None]]) -> bool:
    """True for the string constant (or its ``Expr``) that is a module/def/class docstring."""
    if isinstance(node, ast.Constant):
        up = parents.get(id(node))
        if up is None or not isinstance(up[0], ast.Expr):
            return False
        node = up[0]
    if not (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return False
    up = parents.get(id(node))
    return up is not None and up[1] == "body" and up[2] == 0


def _in_fstring(node: ast.AST, parents: Mapping[int, tuple[ast.AST, str, int | None]]) -> bool:
    while id(node) in parents:
        node = parents[id(node)][0]
        if isinstance(node, ast.JoinedStr):
            return True
    return False


def _kwarg_name(node: ast.AST, parents: Mapping[int, tuple[ast.AST, str, int | None]]) -> str:
    up = parents.get(id(node))
    if up is not None and isinstance(up[0], ast.keyword):
        return up[0].arg or ""
    return ""


def _attr_position(node: ast.Attribute) -> ast.AST:
    """A placeholder node positioned at the attribute name of ``node`` (for the mutant id)."""
    spot = ast.Name(node.attr, ast.Load())
    spot.lineno = node.end_lineno  # type: ignore[assignment]
    spot.col_offset = node.end_col_offset - len(node.attr.encode())  # type: ignore[operator]
    return spot


def _requote(value: str) -> Callable[[str], str]:
    """Write ``value`` with the quote character the original string literal used."""

    def retext(text: str) -> str:
        quote = text[:1]
        if quote in {'"', "'"} and quote not in value and "\\" not in value:
            return f"{quote}{value}{quote}"
        return repr(value)

    return retext


def _dropped(node: ast.AST, fallback: str) -> str:
    """``-<text of node>`` (spaces around symbols removed) when short and without other
    spaces, else ``-<fallback>`` (``-left``, ``-right``, ``-[i]``)."""
    text = re.sub(r"\s*([^\w\s])\s*", r"\1", ast.unparse(node))
    return f"-{text}" if len(text) <= 30 and " " not in text else f"-{fallback}"


def _moved_numbers(value: int | float) -> list[int | float]:
    if isinstance(value, int):
        cands: list[int | float] = [value + 1, value - 1, 2 * value, 0]
    else:
        cands = [value * 0.5, value * 2]
    out: list[int | float] = []
    for c in cands:
        if c != value and c not in out:
            out.append(c)
    return out


def _constant(value: object) -> Callable[[ast.AST], ast.AST]:
    def make(node: ast.AST) -> ast.AST:
        return ast.copy_location(ast.Constant(value=value), node)

    return make


@functools.cache
def _signature_keywords(class_name: str) -> frozenset[str] | None:
    """The keyword parameters of a scikit-learn class, or None when it cannot be imported."""
    import importlib
    import inspect

    try:
        cls = getattr(importlib.import_module(CLASS_MODULES[class_name]), class_name)
        return frozenset(inspect.signature(cls).parameters)
    except Exception:  # noqa: BLE001 - no scikit-learn here: keep every keyword
        return None


@functools.cache
def _string_alternatives() -> dict[str, list[str]]:
    """Every known parameter value -> the other values of its group(s), in table order."""
    alts: dict[str, list[str]] = {}
    for group in STRING_GROUPS:
        for s in group:
            alts.setdefault(s, []).extend(t for t in group if t != s)
    return alts


_Parents = Mapping[int, tuple[ast.AST, str, int | None]]


@dataclass(frozen=True)
class _Snippet:
    """What an operator family needs beside the node: the snippet's parent links and options."""

    parents: _Parents
    choices: Sequence[str] = ()


# --- one function per operator family: (node, snippet) -> the edits it proposes on node ---


def _constant_edits(node: ast.Constant, snippet: _Snippet) -> Iterator[_Edit]:
    """``bool``, ``const``, ``choice`` and ``str``: a literal replaced (never in an f-string)."""
    if _in_fstring(node, snippet.parents):
        return
    value = node.value
    neutral = _kwarg_name(node, snippet.parents) in NEUTRAL_KWARGS
    if isinstance(value, bool):
        if not neutral:
            yield _Edit("bool", node, f"{value}->{not value}", _constant(not value))
    elif isinstance(value, int | float) and not neutral:
        for new in _moved_numbers(value):
            yield _Edit("const", node, f"{value!r}->{new!r}", _constant(new))
    elif isinstance(value, str) and not _is_docstring(node, snippet.parents):
        yield from _string_edits(node, value, snippet.choices)


def _string_edits(node: ast.Constant, value: str, choices: Sequence[str]) -> Iterator[_Edit]:
    """``choice`` (a multiple-choice answer -> each other option), then ``str`` swaps."""
    others = [o for o in choices if o != value] if value in choices else []
    for other in others:
        yield _Edit("choice", node, f"{value}->{other}", _constant(other), retext=_requote(other))
    for other in _string_alternatives().get(value, ()):
        yield _Edit("str", node, f"{value}->{other}", _constant(other), retext=_requote(other))


def _compare_edits(node: ast.Compare, snippet: _Snippet) -> Iterator[_Edit]:
    """``cmp``: each comparison operator of a chain swapped on its own (``#i`` in a chain)."""
    for i, op in enumerate(node.ops):
        new_op = _CMP_SWAPS.get(type(op))
        if new_op is None:
            continue
        tag = f"#{i}" if len(node.ops) > 1 else ""
        left = node.left if i == 0 else node.comparators[i - 1]
        yield _Edit(
            "cmp",
            node,
            f"{type(op).__name__}->{new_op.__name__}{tag}",
            _set_compare_op(i, new_op),
            anchor=node.comparators[i],
            gap=(left, node.comparators[i], _SYMBOLS[type(op)], _SYMBOLS[new_op]),
        )


def _set_compare_op(i: int, new_op: type) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Compare)
        n.ops[i] = new_op()
        return n

    return make


def _arith_edit(node: ast.BinOp | ast.AugAssign, left: ast.AST, right: ast.AST) -> Iterator[_Edit]:
    """``arith`` on a binary or augmented operator (anchored at the right operand)."""
    new_op = _ARITH_SWAPS.get(type(node.op))
    if new_op is None:
        return

    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.BinOp | ast.AugAssign)
        n.op = new_op()
        return n

    yield _Edit(
        "arith",
        node,
        f"{type(node.op).__name__}->{new_op.__name__}",
        make,
        anchor=right,
        gap=(left, right, _SYMBOLS[type(node.op)], _SYMBOLS[new_op]),
    )


def _binop_edits(node: ast.BinOp, snippet: _Snippet) -> Iterator[_Edit]:
    """``arith``, then ``drop`` of either operand of ``+``, ``&``, ``|`` (right first)."""
    yield from _arith_edit(node, node.left, node.right)
    if not isinstance(node.op, _DROP_BINOPS):
        return
    for dropped, kept in (("right", "left"), ("left", "right")):
        operand = getattr(node, dropped)
        yield _Edit("drop", node, _dropped(operand, dropped), attrgetter(kept), anchor=operand)


def _augassign_edits(node: ast.AugAssign, snippet: _Snippet) -> Iterator[_Edit]:
    """``arith`` on ``x += ...`` and its kin."""
    yield from _arith_edit(node, node.target, node.value)


def _boolop_edits(node: ast.BoolOp, snippet: _Snippet) -> Iterator[_Edit]:
    """``drop``: one operand of an ``and`` / ``or``."""
    if len(node.values) < 2:
        return
    for i in range(len(node.values)):
        yield _Edit(
            "drop", node, _dropped(node.values[i], f"[{i}]"), _drop_bool_operand(i), anchor=node
        )


def _drop_bool_operand(i: int) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.BoolOp)
        del n.values[i]
        return n.values[0] if len(n.values) == 1 else n

    return make


def _element_edits(node: ast.List | ast.Tuple | ast.Set, snippet: _Snippet) -> Iterator[_Edit]:
    """``drop``: one element of a list, tuple or set display (not an assignment target)."""
    if isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
        return
    for i in range(len(node.elts)):
        if isinstance(node.elts[i], ast.Starred) and len(node.elts) == 1:
            continue
        yield _Edit(
            "drop",
            node,
            _dropped(node.elts[i], f"[{i}]"),
            _drop_element(i),
            edit=_remove_item([_span_of(e) for e in node.elts], i),
        )


def _drop_element(i: int) -> Callable[[ast.AST], ast.AST]:
    """Delete element ``i``; a set left empty becomes ``set()``."""

    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.List | ast.Tuple | ast.Set)
        del n.elts[i]
        if isinstance(n, ast.Set) and not n.elts:
            return ast.copy_location(ast.Call(ast.Name("set", ast.Load()), [], []), n)
        return n

    return make


def _dict_edits(node: ast.Dict, snippet: _Snippet) -> Iterator[_Edit]:
    """``drop``: one item of a dict display (named by its constant key, else its index)."""
    spans = [
        _span_of(k if k is not None else v, v) for k, v in zip(node.keys, node.values, strict=True)
    ]
    for i, key in enumerate(node.keys):
        label = key.value if isinstance(key, ast.Constant) else i
        yield _Edit("drop", node, f"-[{label}]", _drop_item(i), edit=_remove_item(spans, i))


def _drop_item(i: int) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Dict)
        del n.keys[i], n.values[i]
        return n

    return make


def _unary_edits(node: ast.UnaryOp, snippet: _Snippet) -> Iterator[_Edit]:
    """``unary``: ``not x``, ``~x``, ``-x`` -> ``x``."""
    if isinstance(node.op, ast.Not | ast.Invert | ast.USub):
        yield _Edit("unary", node, f"-{type(node.op).__name__}", lambda n: n.operand)  # type: ignore[attr-defined]


def _method_edits(node: ast.Attribute, snippet: _Snippet) -> Iterator[_Edit]:
    """``method``: an attribute name swapped (``.mean`` -> ``.median``, ...)."""
    for other in METHOD_SWAPS.get(node.attr, ()):
        yield _Edit(
            "method",
            node,
            f"{node.attr}->{other}",
            _rename_attribute(other),
            retext=lambda t, old=node.attr, new=other: t[: len(t) - len(old)] + new,
            anchor=_attr_position(node),
        )


def _rename_attribute(new: str) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Attribute)
        n.attr = new
        return n

    return make


def _delete_edits(node: ast.stmt, snippet: _Snippet) -> Iterator[_Edit]:
    """``delete``: one statement removed (see :func:`_deletable`)."""
    if _deletable(node, snippet.parents):
        yield _Edit("delete", node, f"-{type(node).__name__}", lambda n: None)


def _kwarg_edits(node: ast.Call, snippet: _Snippet) -> Iterator[_Edit]:
    """``kwarg``: one keyword argument removed (never a neutral one, never ``**kwargs``)."""
    for i, kw in enumerate(node.keywords):
        if kw.arg is None or kw.arg in NEUTRAL_KWARGS:
            continue
        yield _Edit("kwarg", node, f"-{kw.arg}", _drop_keyword(i), edit=_remove_argument(node, kw))


def _drop_keyword(i: int) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Call)
        del n.keywords[i]
        return n

    return make


def _row_names(call: ast.Call) -> list[ast.Name]:
    """The train/test names (:data:`ROW_SWAPS`) anywhere in the call's arguments."""
    return [
        n
        for arg in [*call.args, *(k.value for k in call.keywords)]
        for n in ast.walk(arg)
        if isinstance(n, ast.Name) and n.id in ROW_SWAPS
    ]


def _rows_edits(node: ast.Call, snippet: _Snippet) -> Iterator[_Edit]:
    """``rows``: fit on the wrong rows, every train name in the arguments swapped at once."""
    names = _row_names(node)
    if not names:
        return
    pairs = sorted({(n.id, ROW_SWAPS[n.id]) for n in names})
    detail = ",".join(f"{a}->{b}" for a, b in pairs)

    def make_rows(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Call)
        for name in _row_names(n):
            name.id = ROW_SWAPS[name.id]
        return n

    yield _Edit("rows", node, detail, make_rows)


def _class_edits(node: ast.Call, snippet: _Snippet) -> Iterator[_Edit]:
    """``class``: a scikit-learn class swapped, keeping the keywords the new class accepts."""
    func = node.func
    old = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    for new in CLASS_SWAPS.get(old or "", ()):
        accepted = _signature_keywords(new)
        imports = (f"from {CLASS_MODULES[new]} import {new}",)
        keeps_all = accepted is None or all(
            k.arg is None or k.arg in accepted for k in node.keywords
        )
        yield _Edit(
            "class",
            node,
            f"{old}->{new}",
            _swap_class(new, accepted),
            imports,
            anchor=func,
            edit=_rename_callee(func, new) if keeps_all else None,
        )


def _swap_class(new: str, accepted: frozenset[str] | None) -> Callable[[ast.AST], ast.AST]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.Call)
        n.func = ast.copy_location(ast.Name(new, ast.Load()), n.func)
        if accepted is not None:
            n.keywords = [k for k in n.keywords if k.arg is None or k.arg in accepted]
        return n

    return make


#: the operator families, by the node type each applies to. A node gets the edits of every
#: family whose type it has, in this order (an ``AugAssign`` is also an ``ast.stmt``).
_FAMILIES: tuple[
    tuple[type | tuple[type, ...], Callable[[Any, _Snippet], Iterator[_Edit]]], ...
] = (
    (ast.Constant, _constant_edits),
    (ast.Compare, _compare_edits),
    (ast.BinOp, _binop_edits),
    (ast.AugAssign, _augassign_edits),
    (ast.BoolOp, _boolop_edits),
    ((ast.List, ast.Tuple, ast.Set), _element_edits),
    (ast.Dict, _dict_edits),
    (ast.UnaryOp, _unary_edits),
    (ast.Call, _kwarg_edits),
    (ast.Call, _rows_edits),
    (ast.Call, _class_edits),
    (ast.Attribute, _method_edits),
    (ast.stmt, _delete_edits),
)


def _edits(tree: ast.AST, choices: Sequence[str] = ()) -> Iterator[_Edit]:
    """Every edit the operators propose on ``tree`` (a parsed snippet).

    Nodes in :func:`ast.walk` order; on each node the families of :data:`_FAMILIES` in order.
    """
    snippet = _Snippet(_parents(tree), choices)
    for node in ast.walk(tree):
        for node_type, family in _FAMILIES:
            if isinstance(node, node_type):
                yield from family(node, snippet)


Span = tuple[int, int, int, int]  # lineno, col_offset, end_lineno, end_col_offset


def _span_of(first: ast.AST, last: ast.AST | None = None) -> Span:
    last = last or first
    return (first.lineno, first.col_offset, last.end_lineno, last.end_col_offset)  # type: ignore[attr-defined,return-value]


def _remove_item(items: Sequence[Span], i: int) -> Callable[[str], str]:
    """A text edit that removes ``items[i]`` (one of comma-separated siblings) and its comma.

    The layout of everything else is kept: a removed item alone on its line takes the line.
    """

    def edit(source: str) -> str:
        order = sorted(range(len(items)), key=lambda k: items[k][:2])
        j = order.index(i)
        l0, c0, l1, c1 = items[i]
        a, b = _offset(source, l0, c0), _offset(source, l1, c1)
        if j + 1 < len(order):  # up to the next item
            nxt = items[order[j + 1]]
            b = _offset(source, nxt[0], nxt[1])
        elif j > 0:  # the last one: from the end of the previous item
            prev = items[order[j - 1]]
            a = _offset(source, prev[2], prev[3])
            rest = source[b:]
            stripped = rest.lstrip(" \t")
            if stripped.startswith(","):  # a trailing comma stays with the previous item
                b += len(rest) - len(stripped) + 1
                return source[:a] + "," + source[b:]
        else:  # the only item
            rest = source[b:]
            stripped = rest.lstrip(" \t")
            if stripped.startswith(","):
                b += len(rest) - len(stripped) + 1
        out = source[:a] + source[b:]
        # an item alone on its line leaves an empty line: drop it
        return re.sub(r"\n[ \t]*\n", "\n", out, count=1) if "\n" in source[a:b] else out

    return edit


def _remove_argument(call: ast.Call, kw: ast.keyword) -> Callable[[str], str]:
    """A text edit that removes one keyword argument and its comma, keeping the layout."""
    args = [*call.args, *call.keywords]
    return _remove_item([_span_of(a) for a in args], args.index(kw))


def _rename_callee(func: ast.expr, new: str) -> Callable[[str], str]:
    """A text edit that writes ``new`` in place of the called name (``sklearn.x.Old`` too)."""

    def edit(source: str) -> str:
        a = _offset(source, func.lineno, func.col_offset)
        b = _offset(source, func.end_lineno, func.end_col_offset)  # type: ignore[arg-type]
        return source[:a] + new + source[b:]

    return edit


def _deletable(node: ast.stmt, parents: Mapping[int, tuple[ast.AST, str, int | None]]) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass) or _is_docstring(node, parents):
        return False
    up = parents.get(id(node))
    if up is None or up[2] is None:
        return False
    # a top-level def/class: deleting it only removes the answer (not attempted)
    return not (isinstance(up[0], ast.Module) and isinstance(node, ast.FunctionDef | ast.ClassDef))


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def _span(text: str, node: ast.AST) -> str:
    """The source text of ``node`` in ``text``."""
    lines = text.splitlines(keepends=True)
    lo, hi = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
    c0 = _char_col(lines[lo], node.col_offset)  # type: ignore[attr-defined]
    c1 = _char_col(lines[hi], node.end_col_offset)  # type: ignore[attr-defined]
    if lo == hi:
        return lines[lo][c0:c1]
    return "".join([lines[lo][c0:], *lines[lo + 1 : hi], lines[hi][:c1]])


def _splice(text: str, node: ast.AST, replacement: ast.AST | str | None) -> str | None:
    """``text`` with the span of ``node`` replaced by ``replacement`` (deleted when None)."""
    lines = text.splitlines(keepends=True)
    lo, hi = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
    c0 = _char_col(lines[lo], node.col_offset)  # type: ignore[attr-defined]
    c1 = _char_col(lines[hi], node.end_col_offset)  # type: ignore[attr-defined]
    before, after = lines[lo][:c0], lines[hi][c1:]
    if replacement is None:
        if before.strip() or after.strip().lstrip(";").strip():
            return None  # shares its line with another statement: fall back to unparse
        return "".join([*lines[:lo], *lines[hi + 1 :]])
    new = replacement if isinstance(replacement, str) else ast.unparse(replacement)
    return "".join([*lines[:lo], before + new + after, *lines[hi + 1 :]])


def _offset(source: str, lineno: int, byte_col: int) -> int:
    """Character offset in ``source`` of an ``ast`` position (1-based line, byte column)."""
    lines = source.splitlines(keepends=True)
    return sum(len(x) for x in lines[: lineno - 1]) + _char_col(lines[lineno - 1], byte_col)


def _gap_edit(source: str, gap: tuple[ast.AST, ast.AST, str, str]) -> str:
    """``source`` with the operator token between two operands replaced."""
    left, right, old, new = gap
    a = _offset(source, left.end_lineno, left.end_col_offset)  # type: ignore[attr-defined]
    b = _offset(source, right.lineno, right.col_offset)  # type: ignore[attr-defined]
    between = source[a:b]
    if old not in between:
        return ""
    return source[:a] + between.replace(old, new, 1) + source[b:]


def _layout(
    source: str,
    node: ast.AST,
    rep: ast.AST | None,
    dumped: str,
    retext: Callable[[str], str] | None = None,
    gap: tuple[ast.AST, ast.AST, str, str] | None = None,
    edit: Callable[[str], str] | None = None,
) -> str | None:
    """The mutant as the reference's text with one span changed, when that parses the same."""
    candidates: list[str] = []
    if edit is not None:
        try:
            candidates.append(edit(source))
        except (ValueError, IndexError):
            pass
    if gap is not None:
        candidates.append(_gap_edit(source, gap))
    if retext is not None:
        candidates.append(_splice(source, node, retext(_span(source, node))) or "")
    text = _splice(source, node, rep)
    candidates += [text] if text is not None else []
    if rep is None and text is not None:
        # the deleted statement was alone in its body: leave a ``pass`` in its place
        lines = source.splitlines(keepends=True)
        lo, hi = node.lineno - 1, node.end_lineno  # type: ignore[attr-defined]
        indent = lines[lo][: len(lines[lo]) - len(lines[lo].lstrip())]
        candidates.append("".join([*lines[:lo], indent + "pass\n", *lines[hi:]]))
    for cand in candidates:
        try:
            if ast.dump(ast.parse(cand)) == dumped:
                return cand if cand.endswith("\n") else cand + "\n"
        except SyntaxError:
            continue
    return None


def _tidy_passes(tree: ast.AST) -> None:
    """Put a ``pass`` in every ``body`` a deletion emptied (an empty ``else`` just goes)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and not body:
            body.append(ast.Pass())


def _compiles(tree: ast.Module) -> bool:
    """True when ``tree`` compiles, as a module or (a region inside a def) as a body."""
    try:
        compile(tree, "<mutant>", "exec")
        return True
    except (SyntaxError, ValueError, TypeError):
        pass
    wrapped = ast.Module(
        [
            ast.FunctionDef(
                "_mlc_body", ast.arguments([], [], None, [], [], None, []), tree.body, [], None
            )
        ],
        [],
    )
    try:
        compile(ast.fix_missing_locations(wrapped), "<mutant>", "exec")
        return True
    except (SyntaxError, ValueError, TypeError):
        return False


def mutate_snippet(source: str, choices: Sequence[str] = ()) -> list[SnippetMutant]:
    """Every mutant of a code snippet, deduplicated, in source order.

    Parameters
    ----------
    source : str
        Python code (dedented), e.g. a solution region.
    choices : sequence of str, optional
        The option letters of a multiple-choice exercise (``choice`` operator).

    Returns
    -------
    list of SnippetMutant
        Sorted by position, then operator, then detail. Mutants that do not parse, that
        compile to the original, or that duplicate an earlier mutant are dropped.

    Examples
    --------
    >>> [m.detail for m in mutate_snippet("x = a < 2")]
    ['Lt->LtE', '2->3', '2->1', '2->4', '2->0']
    """
    tree = ast.parse(source)
    original = ast.dump(tree)
    order = {name: i for i, name in enumerate(OPERATORS)}
    found: list[tuple[tuple[int, int, int, int], SnippetMutant, str]] = []
    walk_index = {id(n): i for i, n in enumerate(ast.walk(tree))}
    for seq, edit in enumerate(_edits(tree, choices)):
        new_tree = copy.deepcopy(tree)
        copies = list(ast.walk(new_tree))
        target = copies[walk_index[id(edit.node)]]
        parents = _parents(new_tree)
        parent, fname, index = parents[id(target)]
        replacement = edit.make(target)
        if index is None:
            if replacement is None:
                continue
            setattr(parent, fname, replacement)
        else:
            seq_field = getattr(parent, fname)
            if replacement is None:
                del seq_field[index]
            else:
                seq_field[index] = replacement
        _tidy_passes(new_tree)
        ast.fix_missing_locations(new_tree)
        dumped = ast.dump(new_tree)
        if not _compiles(new_tree):
            continue
        if dumped == original:
            continue
        # keep the reference's layout: splice the mutated node into the original text
        rep = None if replacement is None else copy.deepcopy(replacement)
        text = (
            _layout(source, edit.node, rep, dumped, edit.retext, edit.gap, edit.edit)
            or ast.unparse(new_tree) + "\n"
        )
        anchor = edit.anchor or edit.node
        line, col = anchor.lineno, anchor.col_offset  # type: ignore[attr-defined]
        col = _char_col(source.splitlines()[line - 1], col)
        mutant = SnippetMutant(edit.operator, line, col, edit.detail, text, edit.imports)
        found.append(((line, col, order[edit.operator], seq), mutant, dumped))
    found.sort(key=lambda t: t[0])
    seen: set[tuple[str, tuple[str, ...]]] = set()
    names: dict[tuple[str, int, int, str], int] = {}
    out: list[SnippetMutant] = []
    for _, mutant, dumped in found:
        key = (dumped, mutant.imports)
        if key in seen:
            continue
        seen.add(key)
        name = (mutant.operator, mutant.line, mutant.col, mutant.detail)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:  # two nodes at one position: number them, in source order
            mutant = replace(mutant, detail=f"{mutant.detail}#{names[name]}")
        out.append(mutant)
    return out


def changed_line(before: str, after: str) -> str:
    """The first line of ``after`` that differs from ``before`` (for reports)."""
    a, b = before.splitlines(), after.splitlines()
    for tag, i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if j2 > j1:
            return b[j1].strip()
        return "deleted: " + a[i1].strip()
    return ""


# --------------------------------------------------------------------------------------------
# mutants of an exercise
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """A mutant of one exercise's reference answer, ready to run in the notebook's kernel.

    ``line``/``col`` locate the mutation in the exercise's cell of the solution notebook
    (line 1-based, counting the ``# BEGIN SOLUTION`` marker lines; column 0-based).
    ``source`` is the whole mutated cell; ``changed`` its first changed line.
    """

    exercise: str
    operator: str
    line: int
    col: int
    detail: str
    source: str
    changed: str

    @property
    def id(self) -> str:
        """Stable id, e.g. ``q3_onehot_model:const@4:78:20->21``."""
        return f"{self.exercise}:{self.operator}@{self.line}:{self.col}:{self.detail}"


def _cell_source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def exercise_mutants(
    exercise_id: str, cell: Mapping[str, Any], choices: Sequence[str] = ()
) -> list[Mutant]:
    """Every mutant of the solution regions of one exercise cell (deduplicated, in order)."""
    from mlcourse.exercises import region_text, replace_regions, solution_regions

    regions = solution_regions(cell)
    texts = [region_text(cell, r) for r in regions]
    base = replace_regions(cell, texts) if regions else _cell_source(cell)
    out: list[Mutant] = []
    seen: set[str] = set()
    for k, (region, text) in enumerate(zip(regions, texts, strict=True)):
        try:
            snippet_mutants = mutate_snippet(text, choices)
        except SyntaxError:
            continue
        for sm in snippet_mutants:
            new_texts = list(texts)
            new_texts[k] = sm.source
            body = replace_regions(cell, new_texts)
            source = "\n".join([*sm.imports, body]) if sm.imports else body
            if source in seen:
                continue
            seen.add(source)
            line = sm.line if region.whole_cell else region.start + sm.line
            col = sm.col if region.whole_cell else sm.col + len(region.indent)
            out.append(
                Mutant(
                    exercise_id,
                    sm.operator,
                    line,
                    col,
                    sm.detail,
                    source,
                    changed_line(base, body),
                )
            )
    return out


def _fits_a_model(cell: Mapping[str, Any]) -> bool:
    """True when the solution region fits an estimator at top level (``name.fit(...)``)."""
    from mlcourse.exercises import region_text, solution_regions

    for region in solution_regions(cell):
        try:
            tree = ast.parse(region_text(cell, region))
        except SyntaxError:
            continue
        for stmt in tree.body:
            call = stmt.value if isinstance(stmt, ast.Expr | ast.Assign) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in {"fit", "fit_transform", "fit_predict"}
            ):
                return True
    return False


def select(mutants: Sequence[Mutant], cap: int) -> list[Mutant]:
    """At most ``cap`` mutants, chosen deterministically, returned in source order.

    Round-robin over the operators (in :data:`OPERATORS` order); within an operator the
    mutants are taken in the order of the SHA-1 of their ids, which spreads the choice over
    the whole answer. The same reference always gives the same selection.
    """
    if len(mutants) <= cap:
        return list(mutants)
    by_op: dict[str, list[Mutant]] = {}
    for m in mutants:
        by_op.setdefault(m.operator, []).append(m)
    queues = [
        sorted(by_op[op], key=lambda m: hashlib.sha1(m.id.encode()).hexdigest())
        for op in OPERATORS
        if op in by_op
    ]
    chosen: set[str] = set()
    while len(chosen) < cap:
        for q in queues:
            if q and len(chosen) < cap:
                chosen.add(q.pop(0).id)
    return [m for m in mutants if m.id in chosen]


@dataclass
class ExercisePlan:
    """The mutants of one exercise: all generated, the ones run, the declared equivalents."""

    exercise: str
    generated: list[Mutant]
    selected: list[Mutant]
    equivalent: dict[str, str]  # declared id -> reason, for the selected mutants
    stale: list[str]  # declared ids that no generated mutant has
    pops: list[str]  # names to forget before running a mutant
    original: str  # the exercise cell's reference source
    fits: bool = False  # the answer fits an estimator (each mutant refits one)


@dataclass
class NotebookPlan:
    """The mutants of one notebook; ``module`` is its exercises module (``check`` is read there)."""

    stem: str
    path: str
    exercises: list[ExercisePlan] = field(default_factory=list)
    module: str = ""
    text: str = ""  # the solution notebook as read when planning (the kernel runs this)


def _assigned_names(source: str) -> list[str]:
    """Module-level names a cell binds (assignments, defs, classes, loop/with targets)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(stmt.name)
            continue
        for target in _binding_targets(stmt):
            for n in ast.walk(target):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in names:
                    names.append(n.id)
    return names


def _binding_targets(stmt: ast.stmt) -> list[ast.AST]:
    """The targets a top-level statement binds: an assignment's own, or in a compound
    statement (for, with, if, try, while) those of every assignment, loop and ``as`` inside."""
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        return _assignment_targets(stmt)
    if not isinstance(stmt, ast.For | ast.With | ast.If | ast.Try | ast.While):
        return []
    found: list[ast.AST] = []
    for sub in ast.walk(stmt):
        if isinstance(sub, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.For):
            found += _assignment_targets(sub)
        elif isinstance(sub, ast.withitem) and sub.optional_vars is not None:
            found.append(sub.optional_vars)
    return found


def _assignment_targets(
    node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.For,
) -> list[ast.AST]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]


def _equivalents(module_name: str) -> dict[str, dict[str, str]]:
    from mlcourse.exercises import package_root

    tests = str(package_root() / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    try:
        from catalogues import catalogue
    except ImportError:  # a student edition has no tests/
        return {}
    return {k: dict(v) for k, v in catalogue(module_name).equivalent.items()}


def plan(
    only: Sequence[str] = (),
    exercises: Sequence[str] = (),
    cap: int = DEFAULT_CAP,
    fit_cap: int = DEFAULT_FIT_CAP,
) -> list[NotebookPlan]:
    """The mutants to run, notebook by notebook.

    Parameters
    ----------
    only : sequence of str
        Notebook stems, prefixes of them or notebook numbers to keep; all when empty. A
        number is read as ``--notebook`` reads it elsewhere (``1``, ``01``, ``nb1`` and
        ``nb01`` all name ``01_...``; see :func:`_names_notebook`).
    exercises : sequence of str
        Exercise ids to keep; all when empty.
    cap, fit_cap : int
        At most this many mutants per exercise (``fit_cap`` for an exercise whose answer
        fits an estimator: each of its mutants refits one); see :func:`select`.
    """
    import nbformat

    from mlcourse.authoring import solution_paths
    from mlcourse.exercises import exercise_cells, notebook_modules, package_root

    paths = solution_paths(package_root())
    plans: list[NotebookPlan] = []
    for stem, module in notebook_modules().items():
        if stem not in paths:
            continue
        if only and not any(_names_notebook(o, stem) for o in only):
            continue
        text = paths[stem].read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        cells = exercise_cells(nb, strict=False)
        declared = _equivalents(module.__name__)
        np_ = NotebookPlan(stem, str(paths[stem]), module=module.__name__, text=text)
        for ex in module.EXERCISES:
            if exercises and ex.id not in exercises:
                continue
            if ex.id not in cells:
                continue
            cell = nb.cells[cells[ex.id]]
            choices = tuple(ex.choices or ()) if ex.kind == "choice" else ()
            generated = exercise_mutants(ex.id, cell, choices)
            limit = fit_cap if _fits_a_model(cell) else cap
            selected = select(generated, limit)
            ids = {m.id for m in generated}
            decl = declared.get(ex.id, {})
            pops = list(dict.fromkeys([*ex.reads, *_assigned_names(cell.source)]))
            np_.exercises.append(
                ExercisePlan(
                    ex.id,
                    generated,
                    selected,
                    {k: v for k, v in decl.items() if k in ids},
                    sorted(k for k in decl if k not in ids),
                    pops,
                    cell.source,
                    _fits_a_model(cell),
                )
            )
        if np_.exercises or not exercises:
            plans.append(np_)
    return plans


def _names_notebook(value: str, stem: str) -> bool:
    """True when ``--only value`` names notebook ``stem``: its number with or without the
    leading zero or ``nb`` (``1``, ``01``, ``nb1``; read as ``mlcourse grade --notebook``
    reads it, so ``0`` is notebook 00, not every stem starting with 0), else the stem itself
    or a prefix of it (``01_enc``).

    >>> [_names_notebook(v, "01_encoding_basics") for v in ("1", "01", "nb1", "01_enc", "0")]
    [True, True, True, True, False]
    """
    number = value.removeprefix("nb")
    if number.isdigit():
        from mlcourse.grading.exercises_adapter import _notebook_digits

        return _notebook_digits(stem) == _notebook_digits(number)
    return stem.startswith(value)


# --------------------------------------------------------------------------------------------
# running mutants in a kernel
# --------------------------------------------------------------------------------------------


@dataclass
class MutantResult:
    """The verdict on one mutant.

    ``outcome`` is killed, survived, equivalent (declared, and accepted by the checker) or
    rejected_equivalent (declared, but the checker rejects it).
    """

    id: str
    exercise: str
    operator: str
    changed: str
    outcome: str
    status: str = ""  # the checker's status (correct, incorrect, error, timeout, ...)
    message: str = ""
    cell_raised: bool = False
    seconds: float = 0.0
    reason: str = ""  # for a declared equivalent


@dataclass
class ExerciseResult:
    exercise: str
    generated: int
    mutants: list[MutantResult]
    stale: list[str]
    reference: str = "correct"  # the reference's own status; mutants are not run otherwise
    reference_message: str = ""

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.mutants)


@dataclass
class NotebookResult:
    stem: str
    exercises: list[ExerciseResult]
    kernel_seconds: float = 0.0
    seconds: float = 0.0
    error: str = ""
    lent_kernel_broken: bool = False  # a kernel lent to run_notebook_plan must be closed


class _Runner:
    """One kernel that executed the solution notebook; restarted after a timeout."""

    def __init__(self, nb_plan: NotebookPlan, timeout: int) -> None:
        self.plan, self.timeout = nb_plan, timeout
        self.session: Any = None
        self.borrowed: Any = None  # a session lent by the caller: never closed here
        self._lent_timeout: int | None = None
        self.lent_broken = False
        self.kernel_seconds = 0.0

    def start(self) -> None:
        import nbformat

        from mlcourse.exercises import KernelSession

        self.close()
        t0 = time.perf_counter()
        if self.plan.text:
            nb = nbformat.reads(self.plan.text, as_version=4)
        else:
            nb = nbformat.read(self.plan.path, as_version=4)
        session = KernelSession(nb, timeout=max(self.timeout, 120)).__enter__()
        try:
            session.run_notebook()
        except BaseException:
            session.__exit__(None, None, None)
            raise
        session.snapshot()  # each mutant starts from the state the notebook left
        session.client.timeout = self.timeout
        self.session = session
        self.kernel_seconds += time.perf_counter() - t0

    def close(self) -> None:
        if self.session is not None and self.session is self.borrowed:
            self.borrowed.client.timeout = self._lent_timeout
            self.session = None
        elif self.session is not None:
            try:
                self.session.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - a dead kernel may not shut down cleanly
                pass
            self.session = None

    def check(self, exercise_id: str) -> dict[str, Any]:
        """The notebook's own ``check(exercise_id)`` in the kernel: status and message."""
        if not self.plan.module:
            return self.session.check(self.plan.stem, exercise_id)
        return self.session.json(
            f"from {self.plan.module} import check as _mlc_check\n"
            f"_mlc_fb = _mlc_check({exercise_id!r})\n"
            "_mlc_result = {'status': _mlc_fb.status, 'message': _mlc_fb.message}\n"
        )

    def try_mutant(self, ex: ExercisePlan, mutant: Mutant) -> MutantResult:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        from mlcourse.exercises import NotebookError

        result = MutantResult(mutant.id, ex.exercise, mutant.operator, mutant.changed, "killed")
        t0 = time.perf_counter()
        if self.session.has_snapshot:
            # what the mutant before changed (a frame altered in place, a rebound name, a
            # random state) is undone: every mutant is judged as in a fresh kernel. Outside
            # the try: a restore that fails is the harness's error, never a killed mutant
            self.session.restore()
        try:
            self.session.run(f"for _n in {ex.pops!r}:\n    get_ipython().user_ns.pop(_n, None)")
            try:
                self.session.run(mutant.source)
            except NotebookError:
                result.cell_raised = True
            fb = self.check(ex.exercise)
            result.status, result.message = fb["status"], fb["message"]
        except NotebookError as exc:  # check() itself raised in the kernel: no verdict
            result.status = "check_raised"
            result.message = _short(str(exc), 300)
        except (CellTimeoutError, TimeoutError, DeadKernelError, RuntimeError) as exc:
            # a mutant that hangs (or kills the kernel) is killed; start afresh
            result.status = "timeout" if isinstance(exc, TimeoutError) else "kernel_died"
            result.message = _short(str(exc) or type(exc).__name__, 200)
            self.give_back(ex)
            self.start()
        result.outcome = "survived" if result.status == "correct" else "killed"
        result.seconds = time.perf_counter() - t0
        return result

    def restore(self, ex: ExercisePlan) -> None:
        from mlcourse.exercises import NotebookError

        try:
            if self.session.has_snapshot:
                self.session.restore()
            else:
                self.session.run(ex.original)
        except (NotebookError, TimeoutError, RuntimeError):
            self.give_back(ex)
            self.start()

    def give_back(self, ex: ExercisePlan) -> None:
        """Leave a borrowed kernel after a timeout: interrupt it, never reuse it.

        nbclient keeps polling the timed-out cell's output, so the lent client no longer
        captures outputs: the lender must close it (``NotebookResult.lent_kernel_broken``).
        """
        if self.borrowed is None or self.session is not self.borrowed:
            return
        self.lent_broken = True
        try:
            from nbclient.util import run_sync

            run_sync(self.borrowed.client.km.interrupt_kernel)()
        except Exception:  # noqa: BLE001 - the lender closes it anyway
            pass


def run_notebook_plan(
    nb_plan: NotebookPlan, timeout: int = DEFAULT_TIMEOUT, session: Any = None
) -> NotebookResult:
    """Run every selected mutant of one notebook in one kernel; return the verdicts.

    Parameters
    ----------
    nb_plan : NotebookPlan
        One entry of :func:`plan`.
    timeout : int
        Seconds a mutated cell or its check may run before the mutant counts as killed.
    session : KernelSession, optional
        A kernel that already executed the solution notebook (e.g. the generic checker
        tests' kernel), reused instead of starting one; it is left open, and its state
        restored before each mutant and after each exercise (from its
        :meth:`~mlcourse.exercises.KernelSession.snapshot` when it holds one, as a kernel
        of our own does; else by running the exercise's cell again). After a timeout a
        fresh kernel of our own takes over and the lent one is unusable: the result's
        ``lent_kernel_broken`` is then True and the lender must close it.
    """
    t0 = time.perf_counter()
    runner = _Runner(nb_plan, timeout)
    results: list[ExerciseResult] = []
    if session is not None:
        runner.session, runner.borrowed = session, session
        runner._lent_timeout = session.client.timeout
        session.client.timeout = timeout
    else:
        try:
            runner.start()
        except Exception as exc:  # noqa: BLE001 - reported, never a crash of the whole run
            return NotebookResult(nb_plan.stem, [], 0.0, time.perf_counter() - t0, str(exc)[:2000])
    error = ""
    try:
        for ex in nb_plan.exercises:
            res = ExerciseResult(ex.exercise, len(ex.generated), [], ex.stale)
            results.append(res)
            try:
                ref = runner.check(ex.exercise)
            except Exception as exc:  # noqa: BLE001
                ref = {"status": "checker_error", "message": str(exc)[:500]}
                runner.start()
            res.reference, res.reference_message = ref["status"], ref.get("message", "")
            if ref["status"] != "correct":
                _progress(f"{nb_plan.stem}: {ex.exercise}: the reference is judged {ref['status']}")
                continue
            t_ex = time.perf_counter()
            for m in ex.selected:
                r = runner.try_mutant(ex, m)
                if m.id in ex.equivalent:
                    # declared equivalent = a correct answer: the checker must accept it
                    r.reason = ex.equivalent[m.id]
                    r.outcome = "equivalent" if r.status == "correct" else "rejected_equivalent"
                res.mutants.append(r)
            if ex.selected:
                runner.restore(ex)
            survivors = res.count("survived")
            _progress(
                f"{nb_plan.stem}: {ex.exercise}: {len(ex.selected)} mutants in "
                f"{time.perf_counter() - t_ex:.1f} s, {survivors} survived"
            )
            order = {m.id: i for i, m in enumerate(ex.selected)}
            res.mutants.sort(key=lambda r: order[r.id])
    except Exception as exc:  # noqa: BLE001 - e.g. the kernel does not restart: keep what ran
        error = f"stopped after an error: {type(exc).__name__}: {_short(str(exc), 1500)}"
    finally:
        runner.close()
    return NotebookResult(
        nb_plan.stem,
        results,
        runner.kernel_seconds,
        time.perf_counter() - t0,
        error,
        runner.lent_broken,
    )


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cost(p: NotebookPlan) -> int:
    """Rough relative cost of a notebook's run: its kernel, plus a refit per model mutant."""
    return 30 + sum(len(e.selected) * (8 if e.fits else 1) for e in p.exercises)


def run_plans(
    plans: Sequence[NotebookPlan],
    jobs: int = 2,
    timeout: int = DEFAULT_TIMEOUT,
    sessions: Mapping[str, Any] | None = None,
) -> list[NotebookResult]:
    """Run the notebooks' mutants, ``jobs`` notebooks at a time (one process each).

    ``sessions`` maps a notebook stem to a kernel that already ran its solution notebook
    (e.g. the test suite's kernel of that notebook): those notebooks run here, one after the
    other, in the lent kernels (see :func:`run_notebook_plan`), the others as usual.
    """
    if sessions:
        lent = {
            p.stem: run_notebook_plan(p, timeout, sessions[p.stem])
            for p in plans
            if p.stem in sessions
        }
        rest = run_plans([p for p in plans if p.stem not in sessions], jobs, timeout)
        done = {**lent, **{r.stem: r for r in rest}}
        return [done[p.stem] for p in plans]
    if jobs <= 1 or len(plans) <= 1:
        return [run_notebook_plan(p, timeout) for p in plans]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # the heaviest notebooks first, so the workers finish close together
    ordered = sorted(plans, key=lambda p: -_cost(p))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {p.stem: pool.submit(run_notebook_plan, p, timeout) for p in ordered}
        done = {stem: f.result() for stem, f in futures.items()}
    return [done[p.stem] for p in plans]


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def score_line(killed: int, total: int) -> str:
    """``mutation score: K of N mutants killed (P %)``; P is 100.0 when there is no mutant."""
    pct = 100.0 * killed / total if total else 100.0
    return f"mutation score: {killed} of {total} mutants killed ({pct:.1f} %)"


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def report(results: Sequence[NotebookResult]) -> tuple[str, int, int, bool]:
    """The text report; returns ``(text, killed, total, clean)``.

    ``clean`` is False when a mutant survived, a reference is not judged correct, a
    notebook failed to run, or an equivalence declaration is stale or rejected by the
    checker. The last line is always :func:`score_line`.
    """
    lines: list[str] = []
    killed = total = 0
    clean = True
    stale_all: list[str] = []
    for nbr in results:
        n_run = sum(len(e.mutants) for e in nbr.exercises)
        lines.append(
            f"{nbr.stem}  ({n_run} mutants, kernel {nbr.kernel_seconds:.1f} s, "
            f"total {nbr.seconds:.1f} s)"
        )
        if nbr.error:
            clean = False
            what = "the run" if nbr.exercises else "the solution notebook did not run"
            lines.append(f"  {what}: {_short(nbr.error, 300)}")
            if not nbr.exercises:
                continue
        lines.append(
            f"  {'exercise':28s} {'mutants':>7s} {'killed':>7s} {'survived':>8s} "
            f"{'equivalent':>10s}"
        )
        for ex in nbr.exercises:
            k, s = ex.count("killed"), ex.count("survived")
            e = ex.count("equivalent") + ex.count("rejected_equivalent")
            killed += k
            total += k + s
            capped = f"  (of {ex.generated})" if ex.generated > len(ex.mutants) else ""
            lines.append(f"  {ex.exercise:28s} {len(ex.mutants):7d} {k:7d} {s:8d} {e:10d}{capped}")
            if ex.reference != "correct":
                clean = False
                lines.append(
                    f"    the reference answer is judged {ex.reference!r}: mutants not run "
                    "(fix the checker or run `mlcourse release`)"
                )
                lines.append(f"    checker said: {_short(ex.reference_message, 200)}")
            for r in ex.mutants:
                if r.outcome == "survived":
                    clean = False
                    lines.append(f"    SURVIVED {r.id}")
                    lines.append(f"             {_short(r.changed)}")
                elif r.outcome == "rejected_equivalent":
                    clean = False
                    lines.append(f"    REJECTED EQUIVALENT {r.id} ({r.status})")
                    lines.append(f"             {_short(r.changed)}")
                    lines.append(
                        "             declared equivalent, but check rejects it: the checker "
                        "rejects a valid answer or the declaration is wrong"
                    )
            stale_all += [f"{nbr.stem} {ex.exercise}: {sid}" for sid in ex.stale]
    if stale_all:
        clean = False
        lines.append("stale EQUIVALENT declarations (no such mutant any more):")
        lines += [f"  {s}" for s in stale_all]
    lines.append(score_line(killed, total))
    return "\n".join(lines), killed, total, clean


def to_json(results: Sequence[NotebookResult]) -> dict[str, Any]:
    """Machine-readable results (``--json``)."""
    _, killed, total, clean = report(results)
    return {
        "killed": killed,
        "total": total,
        "clean": clean,
        "survivors": [
            r.id
            for nbr in results
            for ex in nbr.exercises
            for r in ex.mutants
            if r.outcome == "survived"
        ],
        "notebooks": [asdict(nbr) for nbr in results],
    }


def list_plans(plans: Sequence[NotebookPlan]) -> str:
    """The ``--list`` text: every selected mutant with its changed line."""
    lines: list[str] = []
    n = eq = 0
    for p in plans:
        lines.append(p.stem)
        for ex in p.exercises:
            capped = (
                f", {len(ex.selected)} selected" if len(ex.selected) < len(ex.generated) else ""
            )
            lines.append(f"  {ex.exercise}: {len(ex.generated)} mutants{capped}")
            for m in ex.selected:
                n += 1
                tag = ""
                if m.id in ex.equivalent:
                    eq += 1
                    tag = f"  [equivalent: {ex.equivalent[m.id]}]"
                lines.append(f"    {m.id}{tag}")
                lines.append(f"        {_short(m.changed)}")
            for sid in ex.stale:
                lines.append(f"    STALE declaration {sid}")
    lines.append(f"{n} mutants ({eq} declared equivalent)")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mlcourse mutants`` / ``python -m mlcourse.mutants``."""
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="STEM",
        help="notebook number (1, 01, nb1) or stem or a prefix of it (repeatable)",
    )
    parser.add_argument(
        "--exercise", action="append", default=[], metavar="ID", help="exercise id (repeatable)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run in parallel (2)")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument(
        "--show",
        action="append",
        default=[],
        metavar="MUTANT_ID",
        help="print the whole mutated cell of this mutant, run nothing (repeatable)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--cap", type=int, default=DEFAULT_CAP, help=f"mutants per exercise ({DEFAULT_CAP})"
    )
    parser.add_argument(
        "--fit-cap",
        type=int,
        default=DEFAULT_FIT_CAP,
        help=f"mutants per exercise that fits an estimator ({DEFAULT_FIT_CAP})",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per mutant cell or check before it counts as killed ({DEFAULT_TIMEOUT})",
    )


def run(args: argparse.Namespace, sessions: Mapping[str, Any] | None = None) -> int:
    """Run the analysis; exit status 1 when a mutant survives (or anything is unclean).

    ``sessions``: kernels lent per notebook stem, as in :func:`run_plans`.
    """
    plans = plan(args.only, args.exercise, args.cap, args.fit_cap)
    if not plans:
        print("no notebook matches", file=sys.stderr)
        return 2
    if args.show:
        found = {m.id: m for p in plans for ex in p.exercises for m in ex.generated}
        for mid in args.show:
            if mid not in found:
                print(f"no mutant {mid!r} (see --list)", file=sys.stderr)
                return 2
            print(f"# {mid}\n{found[mid].source}\n")
        return 0
    if args.list:
        print(list_plans(plans))
        return 0
    t0 = time.perf_counter()
    results = run_plans(plans, jobs=args.jobs, timeout=args.timeout, sessions=sessions)
    text, killed, total, clean = report(results)
    if args.json:
        data = to_json(results)
        data["seconds"] = time.perf_counter() - t0
        args.json.write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(f"(wall time {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    print(text, flush=True)
    return 0 if clean else 1


def main(argv: Sequence[str] | None = None, sessions: Mapping[str, Any] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlcourse.mutants", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), sessions)


if __name__ == "__main__":
    raise SystemExit(main())
