"""One `transitions` machine per lifecycle, moving plain objects it never binds to.

A machine per model (bound to each object) is slow and heavy to build. Here a lifecycle owns a
single machine built on first use with `model=None`; firing a trigger passes the object in, so
domain objects stay plain (SQLAlchemy maps them) and carry no trigger methods. Guards are
conditions that raise `GuardFailed` with the reason, so a refused move always says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from statemachines.errors import GuardFailed, IllegalTransition

if TYPE_CHECKING:
    from transitions import EventData, Machine

# `transitions` is imported when a machine is first built, not with the rules: reading a tally
# (`accord rounds status`) needs no machine.
Guard = Callable[["EventData"], bool]


class Lifecycle:
    """The states and transitions of one kind of entity, and the way to fire a trigger on one."""

    def __init__(
        self,
        entity: str,
        states: Sequence[str],
        transitions: Sequence[Mapping[str, Any]],
        attribute: str = "state",
    ) -> None:
        self.entity = entity
        self.states = tuple(states)
        self.transitions = tuple(dict(t) for t in transitions)
        self.attribute = attribute

    @cached_property
    def machine(self) -> Machine:
        from transitions import Machine

        return Machine(
            model=None,
            states=list(self.states),
            transitions=[dict(t) for t in self.transitions],
            initial=self.states[0],
            model_attribute=self.attribute,
            auto_transitions=False,
            send_event=True,
        )

    @property
    def triggers(self) -> frozenset[str]:
        return frozenset(t["trigger"] for t in self.transitions)

    def allowed(self, state: str) -> list[str]:
        """Triggers that have a transition from `state` (their guards may still refuse)."""
        return sorted({t["trigger"] for t in self.transitions if _matches(t["source"], state)})

    def fire(self, obj: object, trigger: str, **kwargs: Any) -> str:
        """Run `trigger` on `obj` and return the new state.

        Raises IllegalTransition when `trigger` has no transition from the current state, and
        GuardFailed (from the guard itself) when a condition refuses it.
        """
        state = getattr(obj, self.attribute)
        if trigger not in self.allowed(state):
            raise IllegalTransition(self.entity, trigger, state, self.allowed(state))
        if not self.machine.events[trigger].trigger(obj, **kwargs):
            raise GuardFailed(
                "cannot {trigger} {entity} in state '{state}': no rule matched",
                trigger=trigger,
                entity=self.entity,
                state=state,
            )
        return str(getattr(obj, self.attribute))


def require(test: Callable[[EventData], bool], reason: str) -> Guard:
    """A condition that raises GuardFailed(reason) instead of silently refusing."""

    def guard(event: EventData) -> bool:
        if not test(event):
            raise GuardFailed(reason)
        return True

    return guard


def _matches(source: str | Sequence[str], state: str) -> bool:
    return source in ("*", state) or (not isinstance(source, str) and state in source)
