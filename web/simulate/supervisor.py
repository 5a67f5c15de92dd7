"""The Supervisor: a signed-in supervisor's client of the REST API and the light panel."""

from __future__ import annotations

import logging
import random
import re
import threading
from collections import Counter
from typing import Any

from web.simulate.options import USER_AGENT

log = logging.getLogger(__name__)


class Supervisor:
    """A signed-in supervisor: looks up item barcodes and completes replenishments (REST API)."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 10.0) -> None:
        import requests

        self.base, self.timeout = url.rstrip("/"), timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        page = self.http.get(f"{self.base}/login", timeout=timeout)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError(f"no sign-in form at {self.base}/login (HTTP {page.status_code})")
        answer = self.http.post(
            f"{self.base}/login",
            data={"csrf_token": match.group(1), "username": username, "password": password},
            allow_redirects=False,
            timeout=timeout,
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(
                f"supervisor {username} could not sign in (HTTP {answer.status_code})"
            )
        self.http.headers["X-CSRFToken"] = match.group(1)
        self._gtins: dict[str, list[tuple[int, str]]] = {}
        self._lock = threading.Lock()

    def gtin_of(self, sku: str, unit: str = "each") -> str | None:
        """The barcode a picker scans for ``sku``: unit GTIN, or the case/pallet one."""
        with self._lock:
            known = self._gtins.get(sku)
        if known is None:
            from urllib.parse import quote

            answer = self.http.get(
                f"{self.base}/api/v1/items/{quote(sku, safe='')}", timeout=self.timeout
            )
            body = answer.json() if answer.ok else {}
            known = sorted((int(g["pack_quantity"]), str(g["gtin"])) for g in body.get("gtins", []))
            with self._lock:
                self._gtins[sku] = known
        if not known:
            return None
        if unit == "pallet":
            return known[-1][1]
        if unit == "case":
            cases = [g for q, g in known if q > 1]
            return cases[0] if cases else known[0][1]
        return known[0][1]

    def press_lit_lights(self, rng: random.Random, most: int = 1) -> int:
        """Press up to ``most`` lit lights of the simulated pick-to-light zones (not put walls).

        As a person at the rack does: the quantity shown is taken and confirmed; a zone's
        flashing order-complete light is pressed to pass the tote on.
        """
        answer = self.http.get(f"{self.base}/lights/panel", timeout=self.timeout)
        if not answer.ok:
            return 0
        lit = [
            (bus["device"], light["location"])
            for bus in answer.json().get("buses", [])
            if bus.get("simulated") and bus.get("zone")
            for light in bus.get("lights", [])
            if light.get("lit")
        ]
        pressed = 0
        for device, location in rng.sample(lit, min(most, len(lit))):
            posted = self.http.post(
                f"{self.base}/lights/press",
                json={"device": device, "location": location, "button": "confirm"},
                timeout=self.timeout,
            )
            pressed += int(posted.ok)
        return pressed

    def pack_one(self, station: str) -> str | None:
        """Pack the oldest picked order at ``station`` as a packer does; its number, or None.

        Opens the order by its number, scans every picked unit (GS1 with the lot for a
        lot-tracked line, trying the line's lots in turn), closes the parcel in the suggested
        carton at the estimated weight: stock moves, the order is packed, labels print.
        """
        api = f"{self.base}/api/v1"
        listed = self.http.get(
            f"{api}/orders", params={"status": "picked", "page_size": 1}, timeout=self.timeout
        )
        rows = listed.json().get("items", []) if listed.ok else []
        if not rows:
            return None
        number = str(rows[0]["number"])
        opened = self.http.post(
            f"{api}/pack/stations/{station}/open", json={"scan": number}, timeout=self.timeout
        )
        if not opened.ok:
            return None
        view = opened.json()
        for line in view.get("lines", []):
            gtin = str(line["gtin"]).zfill(14)
            codes = [f"]C101{gtin}10{lot}" for lot in line["lots"]] if line["lot_tracked"] else []
            codes = codes or [gtin]
            for _ in range(int(line["remaining"]) - int(line["in_parcel"])):
                for code in codes:
                    scanned = self.http.post(
                        f"{api}/pack/orders/{number}/scan",
                        json={"scan": code, "station": station},
                        timeout=self.timeout,
                    )
                    if scanned.ok:
                        break
        view = self.http.get(f"{api}/pack/orders/{number}", timeout=self.timeout).json()
        closed = self.http.post(
            f"{api}/pack/orders/{number}/close",
            json={
                "carton": view.get("suggested_carton") or "",
                "weight_g": max(1, int(view.get("estimated_weight_g") or 1)),
                "split": False,
                "station": station,
            },
            timeout=self.timeout,
        )
        return number if closed.ok else None

    def complete_replenishments(self) -> int:
        """Bring stock to the pick faces that picks wait for (as a reach-truck driver would)."""
        answer = self.http.get(
            f"{self.base}/api/v1/replenishments?status=open&page_size=100", timeout=self.timeout
        )
        done = 0
        for row in answer.json().get("items", []) if answer.ok else []:
            posted = self.http.post(
                f"{self.base}/api/v1/replenishments/{row['id']}/complete", timeout=self.timeout
            )
            done += int(posted.ok)
        return done

    # ------------------------------------------------------------------ the dock

    def dock_doors(self) -> list[str]:
        """The dock doors' codes (locations of type ``dock``)."""
        answer = self.http.get(
            f"{self.base}/api/v1/locations",
            params={"type": "dock", "page_size": 100},
            timeout=self.timeout,
        )
        return [str(row["code"]) for row in answer.json().get("items", [])] if answer.ok else []

    def parcels_to_load(self) -> list[tuple[str, str, str]]:
        """(order, the order's dock or "", label) of each closed parcel of the packed orders.

        The label is what the loader scans: the GS1-128 SSCC barcode of a B2B parcel, the
        tracking number of a B2C one.
        """
        api, found, page = f"{self.base}/api/v1", [], 1
        while True:
            listed = self.http.get(
                f"{api}/orders",
                params={"status": "packed", "page_size": 100, "page": page},
                timeout=self.timeout,
            )
            body = listed.json() if listed.ok else {}
            for row in body.get("items", []):
                number = str(row["number"])
                parcels = self.http.get(
                    f"{api}/parcels", params={"order": number}, timeout=self.timeout
                )
                for parcel in parcels.json().get("items", []) if parcels.ok else []:
                    if parcel.get("status") != "closed":
                        continue
                    sscc, tracking = parcel.get("sscc"), parcel.get("tracking_number")
                    label = f"]C100{sscc}" if sscc else str(tracking or "")
                    if label:
                        found.append((number, str(row.get("dock") or ""), label))
            if page >= int(body.get("pages") or 0):
                return found
            page += 1

    def load_parcel(self, dock: str, label: str) -> dict[str, Any] | None:
        """Scan a parcel's label at a dock door: the load answer, or None when refused."""
        answer = self.http.post(
            f"{self.base}/api/v1/docks/{dock}/load", json={"scan": label}, timeout=self.timeout
        )
        if not answer.ok:
            log.info("dock %s refused %s: %s", dock, label, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    def open_shipments(self) -> list[dict[str, Any]]:
        """The open shipments (trucks at a door), with their parcels."""
        answer = self.http.get(
            f"{self.base}/api/v1/shipments",
            params={"status": "open", "page_size": 100},
            timeout=self.timeout,
        )
        return list(answer.json().get("items", [])) if answer.ok else []

    def ship(self, shipment_id: int) -> dict[str, Any] | None:
        """The truck leaves: the shipped shipment, or None when refused."""
        answer = self.http.post(
            f"{self.base}/api/v1/shipments/{shipment_id}/ship", timeout=self.timeout
        )
        if not answer.ok:
            log.info("shipment %s not shipped: %s", shipment_id, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    # ------------------------------------------------------------------ the flow of work

    def waiting_carts(self) -> int:
        """Pick carts (batches) released but not yet being picked: status open or assigned."""
        answer = self.http.get(
            f"{self.base}/api/v1/batches",
            params={"status": "open,assigned", "page_size": 1},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        return int(answer.json().get("total") or 0)

    def planned_waves(self) -> list[dict[str, Any]]:
        """The planned waves, earliest cut-off first (then the highest priority)."""
        answer = self.http.get(
            f"{self.base}/api/v1/waves",
            params={"status": "planned", "page_size": 500},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        waves = list(answer.json().get("items", []))
        return sorted(
            waves,
            key=lambda w: (w.get("cut_off") is None, str(w.get("cut_off") or ""),
                           -int(w.get("priority") or 0), str(w["code"])),
        )  # fmt: skip

    def orders_to_plan(self) -> int:
        """Allocated (or partly allocated) orders: those of no wave are what planning takes."""
        answer = self.http.get(
            f"{self.base}/api/v1/orders",
            params={"status": "allocated,partly_allocated", "page_size": 1},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        return int(answer.json().get("total") or 0)

    def plan_waves(self) -> list[dict[str, Any]]:
        """Plan waves of the allocated orders in no wave (``POST /api/v1/waves/plan``)."""
        answer = self.http.post(f"{self.base}/api/v1/waves/plan", json={}, timeout=self.timeout)
        if not answer.ok:
            log.info("waves not planned: %s", answer.text[:200])
            return []
        return list(answer.json().get("waves", []))

    def release_wave(self, code: str) -> dict[str, Any] | None:
        """Release a planned wave to the floor: the release result, or None when refused."""
        from urllib.parse import quote

        answer = self.http.post(
            f"{self.base}/api/v1/waves/{quote(code, safe='/')}/release",
            json={},
            timeout=self.timeout,
        )
        if not answer.ok:
            log.info("wave %s not released: %s", code, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    def available_stock(self, max_pages: int = 20) -> dict[str, int]:
        """Units free to promise per SKU (on hand minus reserved, over every location)."""
        found: Counter[str] = Counter()
        page = 1
        while page <= max_pages:
            answer = self.http.get(
                f"{self.base}/api/v1/stock",
                params={"page_size": 500, "page": page},
                timeout=self.timeout,
            )
            answer.raise_for_status()
            body = answer.json()
            for row in body.get("items", []):
                if int(row.get("available") or 0) > 0:
                    found[str(row["sku"])] += int(row["available"])
            if page >= int(body.get("pages") or 0):
                break
            page += 1
        return dict(found)

    def create_order(self, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Post a new order (``POST /api/v1/orders``): (HTTP status, answer)."""
        answer = self.http.post(f"{self.base}/api/v1/orders", json=order, timeout=self.timeout)
        body: dict[str, Any] = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {"error": answer.text[:200]}
        )
        return answer.status_code, body
