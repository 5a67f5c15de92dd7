"""Supervisor actions from the floor dashboard, each role-checked and written to the audit log.

Every action runs the existing use case and its audit row in ONE transaction: an action that
is refused leaves no audit row, and an audit row always describes something that happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.api.common import (
    PageArgs,
    PageSchema,
    Text,
    api_blueprint,
    clash_is_conflict,
    page_info,
    reads_json,
)
from web.api.flow import SUPERVISORS, permit, release_options
from web.extensions import get_db
from wms import audit, handheld
from wms.db.schema import Order, PickBatch, PickTask, User
from wms.errors import NotFound
from wms.model import Role
from wms.picks import cancel_order, cancel_task
from wms.release import expedite_order, release_wave
from wms.supervision import Resolution, hold_wave, resolve_exception

blp = api_blueprint(
    "Supervisor actions",
    __name__,
    "/api/v1/actions",
    "What a supervisor does from the floor dashboard: release or hold a wave, expedite or "
    "cancel an order, reassign a batch, pause a picker, resolve an exception, reprint or void "
    "a label. Every action is "
    "written to the append-only audit log with who, what, the target, the reason and when.",
)


class ReasonSchema(Schema):
    """Why the supervisor does this (kept in the audit log)."""

    reason = Text(
        load_default="",
        validate=validate.Length(max=300),
        metadata={"description": "Why, in a few words (up to 300 characters)"},
    )


class CancelActionSchema(Schema):
    """Why the order is cancelled (required)."""

    reason = Text(required=True, validate=validate.Length(min=1, max=300))


class ReassignSchema(ReasonSchema):
    """Who takes the batch over, and why."""

    picker = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Username of the picker, or null to put it back in the pool"},
    )


class PauseSchema(ReasonSchema):
    """Start (true) or end (false) a picker's pause."""

    paused = fields.Boolean(load_default=True)


class ResolveSchema(ReasonSchema):
    """How the exception is closed."""

    resolution = fields.String(
        required=True,
        validate=validate.OneOf([r.value for r in Resolution]),
        metadata={"description": "reallocate, backorder or adjust_stock"},
    )
    counted = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "adjust_stock: units really at the location now"},
    )


class ActionDoneSchema(Schema):
    """The audit row the action wrote, and what it did."""

    audit_id = fields.Integer(required=True)
    action = fields.String(required=True)
    target = fields.String(required=True)
    detail = fields.Dict(required=True)


class AuditEntrySchema(Schema):
    """One audit row."""

    id = fields.Integer()
    at = fields.String()
    username = fields.String()
    action = fields.String()
    target = fields.String()
    reason = fields.String()
    detail = fields.Dict()


class AuditListSchema(PageSchema):
    """The latest audit rows, newest first."""

    items = fields.List(fields.Nested(AuditEntrySchema))


def _act(
    action: str, target: str, reason: str, work: Callable[[Session], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``work`` and its audit row in one transaction; answer and what ``work`` returned."""
    clash = clash_is_conflict(f"{target} was changed by another request at the same moment")
    with clash, get_db().write() as session:
        detail = work(session)
        public = {k: v for k, v in detail.items() if not k.startswith("_")}
        row = audit.record_action(
            session,
            user_id=int(current_user.id),
            action=action,
            target=target,
            reason=reason,
            detail=public,
        )
        answer = {"audit_id": row.id, "action": action, "target": target, "detail": public}
    _after_action()
    return answer, detail


def _after_action() -> None:
    """Tell the dashboards at once (they refresh without waiting for their next tick)."""
    from web.dashboard import poke

    poke()


def _push(user_ids: list[int]) -> None:
    from web.publisher import push_handheld_snapshots

    push_handheld_snapshots(get_db(), user_ids)


def _order(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number).with_for_update())
    if order is None:
        raise NotFound(f"order {number!r} does not exist", number=number)
    return order


def _picker_id(session: Session, username: str) -> int:
    picker_id = session.scalar(
        select(User.id).where(User.username == username, User.role == Role.PICKER)
    )
    if picker_id is None:
        raise NotFound(f"no picker has username {username!r}", picker=username)
    return int(picker_id)


@blp.route("/waves/<string:code>/release", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ReasonSchema)
@blp.response(200, ActionDoneSchema)
def release(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Release a planned wave to the floor; a wave already released is a 409."""

    def work(session: Session) -> dict[str, Any]:
        result = release_wave(
            session, code, user_id=int(current_user.id), options=release_options()
        )
        return {"orders": result.orders, "batches": len(result.batches), "tasks": result.tasks}

    return _act("release_wave", f"wave:{code}", body["reason"], work)[0]


@blp.route("/waves/<string:code>/hold", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ReasonSchema)
@blp.response(200, ActionDoneSchema)
def hold(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Hold back every order of a planned wave; they are planned again when released from hold.

    A wave already released is a 409 (cancel or reassign its work instead).
    """

    def work(session: Session) -> dict[str, Any]:
        held = hold_wave(session, code)
        return {"orders_held": len(held), "orders": held[:50]}

    return _act("hold_wave", f"wave:{code}", body["reason"], work)[0]


@blp.route("/orders/<path:number>/expedite", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ReasonSchema)
@blp.response(200, ActionDoneSchema)
def expedite(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Put an order first: top priority, hold lifted, released at once if it can be."""

    def work(session: Session) -> dict[str, Any]:
        result = expedite_order(session, _order(session, number), options=release_options())
        return {"batches": len(result.batches), "tasks": result.tasks}

    return _act("expedite_order", f"order:{number}", body["reason"], work)[0]


@blp.route("/orders/<path:number>/cancel", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(CancelActionSchema)
@blp.response(200, ActionDoneSchema)
def cancel(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Cancel an order not yet packed: its open pick tasks are cancelled, its stock given back."""

    def work(session: Session) -> dict[str, Any]:
        order = _order(session, number)
        pickers = handheld.pickers_of_orders(session, [order.id])
        freed = cancel_order(session, order, reason=body["reason"])
        return {"units_freed": freed, "_pickers": pickers}

    answer, detail = _act("cancel_order", f"order:{number}", body["reason"], work)
    _push(detail["_pickers"])
    return answer


@blp.route("/tasks/<int:task_id>/cancel", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(CancelActionSchema)
@blp.response(200, ActionDoneSchema)
def cancel_one_task(body: dict[str, Any], task_id: int) -> dict[str, Any]:
    """Take one open pick off the floor: its units go back to stock there, the line is
    allocated again elsewhere and released, or backordered; the picker's handheld moves on.
    """

    def work(session: Session) -> dict[str, Any]:
        batch_of = select(PickTask.batch_id).where(PickTask.id == task_id).scalar_subquery()
        picker = session.scalar(select(PickBatch.picker_id).where(PickBatch.id == batch_of))
        result = cancel_task(session, task_id, user_id=int(current_user.id))
        return {
            "released": result.released,
            "reallocated": result.reallocated,
            "backordered": result.backordered,
            "_pickers": [picker] if picker is not None else [],
        }

    answer, detail = _act("cancel_task", f"task:{task_id}", body["reason"], work)
    _push(detail["_pickers"])
    return answer


@blp.route("/batches/<string:code>/reassign", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ReassignSchema)
@blp.response(200, ActionDoneSchema)
def reassign(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Give a batch to another picker (or back to the pool); both handhelds update at once."""

    def work(session: Session) -> dict[str, Any]:
        username = body["picker"]
        picker_id = None if username is None else _picker_id(session, username)
        touched = handheld.reassign_batch(session, code, picker_id)
        return {"picker": username, "_touched": touched}

    answer, detail = _act("reassign_batch", f"batch:{code}", body["reason"], work)
    _push(detail["_touched"])
    return answer


@blp.route("/pickers/<string:username>/pause", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(PauseSchema)
@blp.response(200, ActionDoneSchema)
def pause(body: dict[str, Any], username: str) -> dict[str, Any]:
    """Start (or end) a picker's pause: logged like the handheld's own Pause button.

    The picker's cart stays theirs; reassign it to hand the work to someone else.
    """

    def work(session: Session) -> dict[str, Any]:
        picker_id = _picker_id(session, username)
        handheld.record_pause(
            session, user_id=picker_id, client_id=f"sup-{uuid.uuid4().hex}", paused=body["paused"]
        )
        return {"paused": body["paused"], "_picker": picker_id}

    action = "pause_picker" if body["paused"] else "resume_picker"
    answer, detail = _act(action, f"picker:{username}", body["reason"], work)
    from web.publisher import push_pause

    push_pause(detail["_picker"], body["paused"])
    return answer


@blp.route("/exceptions/<int:exception_id>/resolve", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ResolveSchema)
@blp.response(200, ActionDoneSchema)
def resolve(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Close a floor exception: re-allocate the missing units, backorder them, or adjust stock.

    ``adjust_stock`` needs ``counted`` (units at the location now) and a ``reason``; the
    difference with the ledger is booked as an adjustment movement. An exception already
    resolved is a 409.
    """

    def work(session: Session) -> dict[str, Any]:
        done = resolve_exception(
            session,
            exception_id,
            Resolution(body["resolution"]),
            user_id=int(current_user.id),
            reason=body["reason"],
            counted=body["counted"],
            options=release_options(),
        )
        return {
            "resolution": done.resolution.value,
            "reallocated": done.reallocated,
            "tasks": done.tasks,
            "adjusted": done.adjusted,
        }

    return _act("resolve_exception", f"exception:{exception_id}", body["reason"], work)[0]


class LabelReprintSchema(ReasonSchema):
    """Where to print again (default: the job's own printer)."""

    printer = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))


def _wake_spooler(printer: str) -> None:
    from flask import current_app

    from web.spooler import get_spooler

    get_spooler(current_app).wake(printer)


@blp.route("/print-jobs/<int:job_id>/reprint", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(LabelReprintSchema)
@blp.response(200, ActionDoneSchema)
def reprint(body: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Print a job's labels again, as a new job with the same bytes."""
    from wms import print_jobs

    def work(session: Session) -> dict[str, Any]:
        job = print_jobs.reprint(
            session, job_id, printer=body["printer"], user_id=int(current_user.id)
        )
        return {"new_job": job.id, "printer": job.printer}

    answer, detail = _act("reprint_label", f"print_job:{job_id}", body["reason"], work)
    _wake_spooler(detail["printer"])
    return answer


@blp.route("/print-jobs/<int:job_id>/void", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(ReasonSchema)
@blp.response(200, ActionDoneSchema)
def void(body: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Cancel a print job that has not printed yet (queued or failed); 409 once on its way."""
    from wms import print_jobs

    def work(session: Session) -> dict[str, Any]:
        job = print_jobs.void(session, job_id)
        return {"printer": job.printer, "state": job.state.value}

    return _act("void_label", f"print_job:{job_id}", body["reason"], work)[0]


@blp.route("/audit", methods=["GET"])
@permit(blp, *SUPERVISORS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, AuditListSchema)
def audit_log(args: dict[str, Any]) -> dict[str, Any]:
    """The latest supervisor actions, newest first."""
    size = int(args["page_size"])
    with get_db().read() as session:
        rows = audit.recent_actions(session, limit=size, offset=(int(args["page"]) - 1) * size)
        total = audit.count_actions(session)
    return {**page_info(args, total), "items": [e.as_dict() for e in rows]}
