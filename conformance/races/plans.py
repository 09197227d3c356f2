"""Plans of concurrent histories: what a race runs, before it runs (pure, seeded).

A :class:`Plan` is a sequential prefix that creates 1-3 SMS, then 2-3 branches of a few
operations each, run at once. Operations name SMS by *reference* (``s0``, ``s1`` for the
prefix's SMS; ``n1.0`` for one branch 1 creates), since the server gives the ids; a branch
touches only SMS the prefix made and its own. Due times are symbolic (:data:`WHEN`),
relative to the moment the branches start: the recorder
(:mod:`conformance.races.record`) turns them into dates on the target's clock.

The branch shapes of issue 14 (:data:`SHAPES`): cancel vs the sender near the due time,
concurrent PUTs on one draft, create vs list, delete vs update or get, two cancels,
schedule vs cancel, two sends of one draft, and a random mix. :func:`draw_plan` draws one
from a ``Random``; :func:`plans` is the same as a Hypothesis strategy.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import strategies as st

__all__ = [
    "SHAPES",
    "WHEN",
    "Plan",
    "Planned",
    "draw_plan",
    "plans",
    "sends",
    "shrink_candidates",
    "without_sends",
]

# When a date falls, relative to the branches' start (the recorder maps these to its clock):
# "soon": due as the branches start (the sender may run during them); "later": not due in
# the history; "past": already due when the request is sent.
WHEN = ("soon", "later", "past")
KINDS = ("create", "get", "edit", "schedule", "outbox", "cancel", "delete", "list")


@dataclass(frozen=True, slots=True)
class Planned:
    """One operation: ``kind`` (:data:`KINDS`) on the SMS ``ref`` (none for a list); a
    create's ``status`` (draft, scheduled, outbox), ``text`` (create, edit), and ``when``
    a scheduled create or a schedule is due, or an outbox create's ``send_in`` falls due
    (``soon``: the seconds before the branches start; otherwise at once)."""

    kind: str
    ref: str | None = None
    status: str | None = None
    text: str | None = None
    when: str | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return "list"
        extra = " ".join(str(v) for v in (self.status, self.text, self.when) if v is not None)
        return f"{self.kind} {self.ref}" + (f" {extra}" if extra else "")


@dataclass(frozen=True, slots=True)
class Plan:
    """A prefix (run one at a time) and branches (run at once); ``shape`` names the
    branch shape it was drawn as."""

    prefix: tuple[Planned, ...]
    branches: tuple[tuple[Planned, ...], ...]
    shape: str = "mix"

    @property
    def size(self) -> int:
        return len(self.prefix) + sum(map(len, self.branches))

    @property
    def refs(self) -> tuple[str, ...]:
        """Every SMS the plan creates, in plan order."""
        ops = [*self.prefix, *(op for branch in self.branches for op in branch)]
        return tuple(op.ref for op in ops if op.kind == "create" and op.ref is not None)

    def __str__(self) -> str:
        lines = [f"{self.shape}: prefix " + "; ".join(map(str, self.prefix))]
        lines += [
            f"  branch {n}: " + "; ".join(map(str, ops)) for n, ops in enumerate(self.branches)
        ]
        return "\n".join(lines)


def _draft(ref: str) -> Planned:
    return Planned("create", ref, "draft", f"{ref} text")


def _due(rng: random.Random, ref: str) -> Planned:
    """An SMS that falls due as the branches start: scheduled, or outbox with send_in."""
    return Planned("create", ref, rng.choice(["scheduled", "outbox"]), f"{ref} text", "soon")


def _edit(rng: random.Random, ref: str, branch: int) -> Planned:
    return Planned("edit", ref, text=f"{ref} by {branch}.{rng.randrange(100)}")


def _fill(rng: random.Random, ops: list[Planned], ref: str, branch: int, length: int) -> list:
    """``ops`` padded with reads and edits of ``ref`` to ``length``."""
    while len(ops) < length:
        ops.append(rng.choice([Planned("get", ref), _edit(rng, ref, branch), Planned("list")]))
    return ops


def cancel_vs_sender(rng: random.Random, branches: int) -> Plan:
    prefix = (_due(rng, "s0"),)
    bs = [[Planned("cancel", "s0")]] + [
        [rng.choice([Planned("get", "s0"), Planned("list")])] for _ in range(branches - 1)
    ]
    return Plan(prefix, tuple(tuple(_fill(rng, b, "s0", n, 2)) for n, b in enumerate(bs)))


def concurrent_puts(rng: random.Random, branches: int) -> Plan:
    moves = [
        Planned("schedule", "s0", when="later"),
        Planned("outbox", "s0"),
        Planned("schedule", "s0", when="past"),
    ]
    bs = [[_edit(rng, "s0", 0)], [rng.choice(moves)]]
    bs += [[rng.choice([_edit(rng, "s0", n), rng.choice(moves)])] for n in range(2, branches)]
    return Plan((_draft("s0"),), tuple((*b, Planned("get", "s0")) for b in bs))


def create_vs_list(rng: random.Random, branches: int) -> Plan:
    bs = [[Planned("create", f"n{n}.0", rng.choice(["draft", "outbox"]), f"n{n}.0 text")]
          for n in range(branches - 1)]  # fmt: skip
    bs.append([Planned("list"), Planned("list")])
    return Plan((_draft("s0"),), tuple(tuple(b) for b in bs))


def delete_vs_update(rng: random.Random, branches: int) -> Plan:
    # The delete goes first, or after a read: then it lands while the update is under way.
    first = rng.choice([[Planned("delete", "s0")], [Planned("get", "s0"), Planned("delete", "s0")]])
    bs = [first, [_edit(rng, "s0", 1), Planned("get", "s0")]]
    for n in range(2, branches):
        bs.append([rng.choice([Planned("get", "s0"), _edit(rng, "s0", n), Planned("list")])])
    return Plan((_draft("s0"),), tuple(tuple(b) for b in bs))


def two_cancels(rng: random.Random, branches: int) -> Plan:
    prefix = (
        rng.choice([_due(rng, "s0"), Planned("create", "s0", "scheduled", "s0 text", "later")]),
    )
    bs = [[Planned("cancel", "s0")], [Planned("cancel", "s0")]]
    bs += [[Planned("get", "s0")] for _ in range(2, branches)]
    return Plan(prefix, tuple(tuple(b) for b in bs))


def schedule_vs_cancel(rng: random.Random, branches: int) -> Plan:
    when = rng.choice(["later", "past"])
    bs = [[Planned("schedule", "s0", when=when)], [Planned("cancel", "s0"), Planned("get", "s0")]]
    bs += [[Planned("get", "s0")] for _ in range(2, branches)]
    return Plan((_draft("s0"),), tuple(tuple(b) for b in bs))


def mix(rng: random.Random, branches: int) -> Plan:
    """1-3 SMS of any kind, then branches of 2-4 random operations on them."""
    prefix = [rng.choice([_draft, _draft, lambda ref: _due(rng, ref)])(f"s{k}")
              for k in range(rng.randint(1, 3))]  # fmt: skip
    refs = [op.ref for op in prefix if op.ref]
    bs = []
    for n in range(branches):
        own = list(refs)
        ops: list[Planned] = []
        for k in range(rng.randint(2, 4)):
            ref = rng.choice(own)
            kind = rng.choices(KINDS, weights=[1, 4, 4, 2, 1, 3, 1, 2])[0]
            if kind == "create":
                ref = f"n{n}.{k}"
                own.append(ref)
                ops.append(Planned("create", ref, rng.choice(["draft", "outbox"]), f"{ref} text"))
            elif kind == "edit":
                ops.append(_edit(rng, ref, n))
            elif kind == "schedule":
                ops.append(Planned("schedule", ref, when=rng.choice(["later", "past"])))
            elif kind == "list":
                ops.append(Planned("list"))
            else:
                ops.append(Planned(kind, ref))
        bs.append(tuple(ops))
    return Plan(tuple(prefix), tuple(bs))


def double_send(rng: random.Random, branches: int) -> Plan:
    """Two sends of one draft at once (two PUTs to outbox; a third branch may schedule it
    already due, or read it), then lists: a message sent twice shows only as an SMS
    nobody made."""
    third = [Planned("schedule", "s0", when="past"), Planned("get", "s0"), Planned("list")]
    bs = [
        [Planned("outbox", "s0"), Planned("get", "s0")],
        [Planned("outbox", "s0"), Planned("list")],
    ]
    bs += [[rng.choice(third)] for _ in range(2, branches)]
    return Plan((_draft("s0"),), tuple(tuple(b) for b in bs))


SHAPES: dict[str, Callable[[random.Random, int], Plan]] = {
    "cancel vs sender": cancel_vs_sender,
    "concurrent puts": concurrent_puts,
    "create vs list": create_vs_list,
    "double send": double_send,
    "delete vs update": delete_vs_update,
    "two cancels": two_cancels,
    "schedule vs cancel": schedule_vs_cancel,
    "mix": mix,
}


def draw_plan(rng: random.Random, branches: int = 3, shape: str | None = None) -> Plan:
    """A plan of ``branches`` (2 or 3) branches, of ``shape`` (default: drawn)."""
    if branches not in (2, 3):
        raise ValueError(f"a race runs 2 or 3 branches, got {branches}")
    name = shape if shape is not None else rng.choice(sorted(SHAPES))
    return replace(SHAPES[name](rng, branches), shape=name)


def plans(branches: int = 3) -> st.SearchStrategy[Plan]:
    """A Hypothesis strategy for plans: a shape, and a seed its branches are drawn from."""
    return st.builds(
        lambda shape, seed: draw_plan(random.Random(seed), branches, shape),
        st.sampled_from(sorted(SHAPES)),
        st.integers(0, 2**32 - 1),
    )


def shrink_candidates(plan: Plan) -> list[Plan]:
    """Smaller plans to try, most promising first: a branch left out (while two remain),
    then one branch operation, then a prefix SMS no branch names."""
    out = []
    if len(plan.branches) > 2:
        for n in range(len(plan.branches)):
            out.append(replace(plan, branches=plan.branches[:n] + plan.branches[n + 1 :]))
    for n, branch in enumerate(plan.branches):
        for k, op in enumerate(branch):
            if len(branch) == 1:
                continue
            if op.kind == "create" and any(o.ref == op.ref for o in branch[k + 1 :]):
                continue  # a later operation names it
            smaller = branch[:k] + branch[k + 1 :]
            out.append(
                replace(plan, branches=(*plan.branches[:n], smaller, *plan.branches[n + 1 :]))
            )
    named = {op.ref for branch in plan.branches for op in branch}
    for k, op in enumerate(plan.prefix):
        if op.ref not in named and len(plan.prefix) > 1:
            out.append(replace(plan, prefix=plan.prefix[:k] + plan.prefix[k + 1 :]))
    return out


SENDING_KINDS = ("schedule", "outbox")


def sends(plan: Plan) -> bool:
    """True when ``plan`` puts an SMS in a status that sends it (a scheduled or outbox
    create, a schedule, a send)."""
    ops = [*plan.prefix, *(op for branch in plan.branches for op in branch)]
    return any(
        op.kind in SENDING_KINDS or (op.kind == "create" and op.status != "draft") for op in ops
    )


def without_sends(plan: Plan) -> Plan:
    """``plan`` with nothing that sends, for a live target without ``--allow-send``: a
    scheduled or outbox create becomes a draft's, a schedule or a send becomes an edit of
    the text (a cancel stays: on a draft it is a PUT of ``status: draft``, which sends
    nothing). The shapes keep their concurrency: PUTs against PUTs, deletes, lists."""
    if not sends(plan):
        return plan

    def unsent(op: Planned) -> Planned:
        if op.kind == "create" and op.status != "draft":
            return replace(op, status="draft", when=None)
        if op.kind in SENDING_KINDS:
            return Planned("edit", op.ref, text=f"{op.ref} {op.kind} as an edit")
        return op

    return replace(
        plan,
        prefix=tuple(map(unsent, plan.prefix)),
        branches=tuple(tuple(map(unsent, branch)) for branch in plan.branches),
        shape=f"{plan.shape} (drafts only)",
    )
