"""Zeebe's variable scoping: the process instance is the root scope, each element instance a local scope.

Propagation (job completion without output mappings, message and error payloads): a variable
updates the nearest scope that already holds it, otherwise it is created in the root scope.
"""

from __future__ import annotations

import copy
from typing import Any

from localzeebe.model import Mapping
from localzeebe.state import ElementInstance, ProcessInstance, Variables


class MappingError(ValueError):
    """A mapping target cannot be written (e.g. a path into a variable that is not a context)."""


def visible(instance: ProcessInstance, element: ElementInstance | None) -> Variables:
    if element is None or not element.variables:
        return instance.variables
    return {**instance.variables, **element.variables}


def propagate(instance: ProcessInstance, element: ElementInstance | None, variables: Variables) -> None:
    for name, value in variables.items():
        if element is not None and name in element.variables:
            element.variables[name] = value
        else:
            instance.variables[name] = value


def _assign(result: Variables, context: Variables, target: str, value: Any, merge: bool) -> None:
    names = target.split(".")
    if len(names) == 1:
        result[target] = value
        return
    head = names[0]
    if head in result:  # an earlier mapping of this evaluation wrote it
        base = result[head]
    elif merge:
        base = copy.deepcopy(context.get(head, {}))
    else:
        base = {}
    if base is None:
        base = {}
    if not isinstance(base, dict):
        raise MappingError(f"cannot write {target!r}: variable {head!r} is not a context")
    node = base
    for name in names[1:-1]:
        child = node.get(name)
        if child is None:
            child = node[name] = {}
        if not isinstance(child, dict):
            raise MappingError(f"cannot write {target!r}: {name!r} is not a context")
        node = child
    node[names[-1]] = value
    result[head] = base


def apply_mappings(mappings: list[Mapping], context: Variables, *, merge: bool) -> Variables:
    """Evaluate mappings in order; later sources see earlier targets, as with Zeebe's input mappings.

    A nested target (`a.b`) of an output mapping (merge=True) merges into the existing context `a`; one of
    an input mapping (merge=False) builds a new context, as Zeebe does.
    """
    result: Variables = {}
    for mapping in mappings:
        scope = {**context, **result} if result else context
        _assign(result, scope, mapping.target, mapping.source.evaluate(scope), merge)
    return result
