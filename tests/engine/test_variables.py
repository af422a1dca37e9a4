"""Variable scopes, propagation and mappings, in-process."""

from __future__ import annotations

import pytest

from localzeebe.feel import Expression
from localzeebe.model import Mapping
from localzeebe.state import ElementInstance, ProcessInstance
from localzeebe.variables import MappingError, apply_mappings, propagate, visible


def _instance() -> tuple[ProcessInstance, ElementInstance]:
    instance = ProcessInstance(1, 2, "p", 1, "ACTIVE", {"order": {"id": "o1"}, "n": 1}, 0)
    element = ElementInstance(3, "task", "serviceTask", {"n": 10, "local": True})
    return instance, element


def test_local_variables_shadow_the_process_scope() -> None:
    instance, element = _instance()
    assert visible(instance, element) == {"order": {"id": "o1"}, "n": 10, "local": True}
    assert visible(instance, None) == {"order": {"id": "o1"}, "n": 1}


def test_propagation_updates_the_nearest_scope_holding_the_variable_else_the_root() -> None:
    instance, element = _instance()
    propagate(instance, element, {"n": 11, "new": "x"})
    assert element.variables == {"n": 11, "local": True}
    assert instance.variables == {"order": {"id": "o1"}, "n": 1, "new": "x"}


MAPPINGS = [
    Mapping(Expression.parse("=n + 1"), "next"),
    Mapping(Expression.parse("=next * 10"), "order.total"),
    Mapping(Expression.parse("plain"), "order.note.text"),
]


def test_output_mappings_merge_paths_into_existing_contexts_and_see_earlier_targets() -> None:
    assert apply_mappings(MAPPINGS, {"n": 1, "order": {"id": "o1"}}, merge=True) == {
        "next": 2,
        "order": {"id": "o1", "total": 20, "note": {"text": "plain"}},
    }


def test_input_mappings_build_new_contexts_for_paths() -> None:
    assert apply_mappings(MAPPINGS, {"n": 1, "order": {"id": "o1"}}, merge=False) == {
        "next": 2,
        "order": {"total": 20, "note": {"text": "plain"}},
    }


def test_a_path_into_a_value_that_is_not_a_context_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="'n' is not a context"):
        apply_mappings([Mapping(Expression.parse("=1"), "n.x")], {"n": 5}, merge=True)
