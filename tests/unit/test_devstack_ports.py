"""Ports for the parts of one stack are chosen together, so no two parts are handed the same one."""

from __future__ import annotations

from dataclasses import astuple

from devstack.parts import free_ports
from devstack.stack import Ports


def test_ports_chosen_together_are_all_different() -> None:
    for _ in range(20):
        ports = free_ports(12)
        assert len(set(ports)) == len(ports)


def test_a_stack_on_free_ports_gets_a_different_port_for_each_part() -> None:
    ports = astuple(Ports.free())
    # PostgreSQL, Medusa, the engine's two, both functions, and the production shape's Redis and worker.
    assert len(set(ports)) == len(ports) == 8
