"""Planted: lifecycle tables with one wrong cell, the survivors of a mutation audit of
``protocol/_machines/_lifecycle.py`` (no test but the docs comparison saw them).

Each is made from the real table's source with one AST edit of one cell
(:func:`mutant_table`), so it stays in step with the table. The cloud reads the table for
its decisions and the hypothesis state machine of ``test_lifecycle.py`` moves its model by
the same table, so a wrong cell moves both; the state machine sees one only where the
store disagrees or a step asserts a rule, and its default 60 walks missed these in the
audit (a few it finds in some runs). ``tests/protocol/test_lifecycle_cells.py`` drives
every cell through the cloud and catches each. The first eight change what the cloud does
or keeps; the rest are table cells that no longer say what the cloud does.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping

from protocol._machines import _lifecycle
from protocol._machines._lifecycle import ReceiptEvent, ReceiptState, Refusal

__all__ = ["MUTANT_TABLES", "mutant_table"]

S, E, R = ReceiptState, ReceiptEvent, Refusal

Table = Mapping[ReceiptState, Mapping[ReceiptEvent, ReceiptState | Refusal]]


class _Cell(ast.NodeTransformer):
    """Rewrite the cell ``LIFECYCLE[state][event]`` to ``to``."""

    def __init__(self, state: ReceiptState, event: ReceiptEvent, to: ReceiptState | Refusal):
        self.state, self.event, self.to = state, event, to
        self.done = False

    def visit_Dict(self, node: ast.Dict) -> ast.Dict:
        for key, row in zip(node.keys, node.values, strict=True):
            if _names(key, "_S", S(self.state).name) and isinstance(row, ast.Dict):
                for i, cell_key in enumerate(row.keys):
                    if _names(cell_key, "_E", E(self.event).name):
                        enum = "_S" if isinstance(self.to, ReceiptState) else "_R"
                        row.values[i] = ast.Attribute(
                            ast.Name(enum, ast.Load()), self.to.name, ast.Load()
                        )
                        self.done = True
        return node


def _names(node: ast.expr | None, enum: str, member: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) == (enum, member)
    )


def mutant_table(state: ReceiptState, event: ReceiptEvent, to: ReceiptState | Refusal) -> Table:
    """The real ``LIFECYCLE``, rebuilt from its source with ``[state][event]`` made ``to``."""
    module = ast.parse(inspect.getsource(_lifecycle))
    (assign,) = (
        node
        for node in module.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "LIFECYCLE"
    )
    edit = _Cell(state, event, to)
    assert edit.visit(assign) is assign and edit.done, (state, event)
    namespace = dict(vars(_lifecycle))
    statement = ast.fix_missing_locations(ast.Module([assign], type_ignores=[]))
    exec(compile(statement, inspect.getfile(_lifecycle), "exec"), namespace)
    table: Table = namespace["LIFECYCLE"]
    return table


MUTANT_TABLES: dict[str, tuple[ReceiptState, ReceiptEvent, ReceiptState | Refusal]] = {
    # Unit 8022 from push-pending recorded as a plain delivery: the table says delivered,
    # the store dual-sent (its push kept and re-sent until acknowledged).
    "dual-send-is-delivered": (S.PUSH_PENDING, E.MISMATCH_DUAL_SENT, S.DELIVERED),
    "withheld-dual-send-is-delivered": (S.WITHHELD, E.MISMATCH_DUAL_SENT, S.DELIVERED),
    # A withheld dual-send said to disarm (or to send) the timeout push; neither happens.
    "withheld-dual-send-disarms": (S.PUSH_PENDING, E.DUAL_SEND_WITHHELD, S.WITHHELD),
    "withheld-dual-send-pushes": (S.WITHHELD, E.DUAL_SEND_WITHHELD, S.PUSHED),
    # A re-sent upload of a withheld receipt not re-arming its push: the cloud, reading
    # the table, stops mending a store that lost its pending push (step 602 lost).
    "withheld-not-repaired": (S.WITHHELD, E.UPLOAD_REPEATED, S.WITHHELD),
    # The phone that subscribed since asks: the table says unbound, or refuses the answer.
    "withheld-answer-unbinds": (S.WITHHELD, E.REQUEST_ANSWERED, S.NOT_UPLOADED),
    "withheld-answer-refused": (S.WITHHELD, E.REQUEST_ANSWERED, R.NOTHING_OUTSTANDING),
    # A repeated upload said to end a dual-send whose push is still outstanding.
    "dual-sent-repeat-delivers": (S.DUAL_SENT, E.UPLOAD_REPEATED, S.DELIVERED),
    # The named phone's request refused by the table while a push is out: the cloud
    # answers it all the same.
    "pushed-answer-refused": (S.PUSHED, E.REQUEST_ANSWERED, R.NOTHING_OUTSTANDING),
    # Refusals the table turns into "stays" (the cloud is unchanged, the table lies):
    # a conflicting upload stored, a dual-send withheld for an unbound receipt.
    "conflict-stored": (S.PUSH_PENDING, E.UPLOAD_STORED, S.PUSH_PENDING),
    "unbound-dual-send-withheld": (S.NOT_UPLOADED, E.DUAL_SEND_WITHHELD, S.NOT_UPLOADED),
}
"""Survivors of the audit that the cells test now catches, by name: (state, event, wrong).
The other survivors change nothing the cloud does or shows (M_results: equivalent)."""
