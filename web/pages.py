"""Server-rendered screens: the overview for office and supervisors, the handheld's home."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from web.extensions import get_db, get_settings
from web.security import home_for, roles_required
from wms.db.schema import Order
from wms.model import OrderStatus, Role
from wms.overview import floor_summary

blueprint = Blueprint("pages", __name__)
PAGE_SIZE = 25


@blueprint.route("/")
def index() -> Any:
    """Send each user to their own screen."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user.role))


@blueprint.route("/overview")
@roles_required(Role.SUPERVISOR, Role.PACKER, Role.INTEGRATION)
def overview() -> Any:
    """Orders by status, stock by zone, and the order list with a status filter."""
    status_arg = request.args.get("status", "")
    status = OrderStatus(status_arg) if status_arg in OrderStatus._value2member_map_ else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with get_db().read() as session:
        summary = floor_summary(session)
        query = select(Order)
        count = select(func.count()).select_from(Order)
        if status is not None:
            query, count = query.where(Order.status == status), count.where(Order.status == status)
        total = session.scalar(count) or 0
        orders = session.scalars(
            query.order_by(Order.cut_off.is_(None), Order.cut_off, Order.priority.desc(), Order.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        rows = [
            {
                "number": o.number,
                "kind": o.kind.value,
                "customer": o.ship_to_name or (o.customer.name if o.customer else ""),
                "carrier": f"{o.carrier} {o.service}".strip(),
                "cut_off": o.cut_off,
                "priority": o.priority,
                "status": o.status.value,
                "lines": len(o.lines),
            }
            for o in orders
        ]
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "pages/overview.html",
        summary=summary,
        orders=rows,
        status=status,
        statuses=list(OrderStatus),
        page=page,
        pages=pages,
        total=total,
        site_name=get_settings().site_name,
    )


@blueprint.route("/handheld")
@roles_required(Role.PICKER, Role.SUPERVISOR)
def handheld() -> Any:
    """The picker's home on the handheld after a badge scan."""
    return render_template("pages/handheld.html")
