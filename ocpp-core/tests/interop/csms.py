"""Interop: the Python `ocpp` package as a CSMS against our station client.

usage: csms.py <1.6|2.0.1>
Prints `PORT <n>` once listening on 127.0.0.1, answers BootNotification (Accepted),
Heartbeat and StatusNotification, then calls the station (1.6 GetConfiguration, 2.0.1 Reset)
and prints one JSON object with what it received.
"""
import asyncio
import json
import sys
from datetime import datetime, timezone

import websockets

VERSION = sys.argv[1]
received = {}
done = asyncio.Event() if sys.version_info >= (3, 10) else None


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def make_cp(ws, station_id):
    from ocpp.routing import on

    if VERSION == "1.6":
        from ocpp.v16 import ChargePoint, call, call_result

        class CP(ChargePoint):
            @on("BootNotification")
            def boot(self, charge_point_vendor, charge_point_model, **kw):
                received["boot"] = {"vendor": charge_point_vendor, "model": charge_point_model}
                return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

            @on("Heartbeat")
            def heartbeat(self, **kw):
                received["heartbeat"] = True
                return call_result.Heartbeat(current_time=now())

            @on("StatusNotification")
            def status(self, connector_id, error_code, status, **kw):
                received["status"] = {"connector_id": connector_id, "status": status, "error_code": error_code}
                return call_result.StatusNotification()

        async def csms_call(cp):
            r = await cp.call(call.GetConfiguration(key=["HeartbeatInterval"]))
            return {"configuration_key": r.configuration_key}
    else:
        from ocpp.v201 import ChargePoint, call, call_result

        class CP(ChargePoint):
            @on("BootNotification")
            def boot(self, charging_station, reason, **kw):
                received["boot"] = {"vendor": charging_station["vendor_name"], "model": charging_station["model"], "reason": reason}
                return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

            @on("Heartbeat")
            def heartbeat(self, **kw):
                received["heartbeat"] = True
                return call_result.Heartbeat(current_time=now())

            @on("StatusNotification")
            def status(self, timestamp, connector_status, evse_id, connector_id, **kw):
                received["status"] = {"connector_status": connector_status, "evse_id": evse_id, "connector_id": connector_id}
                return call_result.StatusNotification()

        async def csms_call(cp):
            r = await cp.call(call.Reset(type="Immediate"))
            return {"reset_status": str(r.status)}

    return CP(station_id, ws), csms_call


async def on_connect(ws):
    path = ws.request.path if hasattr(ws, "request") else ws.path
    station_id = path.rstrip("/").split("/")[-1]
    received["station_id"] = station_id
    received["subprotocol"] = ws.subprotocol
    cp, csms_call = make_cp(ws, station_id)
    reader = asyncio.ensure_future(cp.start())
    for _ in range(200):
        if all(k in received for k in ("boot", "heartbeat", "status")):
            break
        await asyncio.sleep(0.05)
    received["csms_call"] = await csms_call(cp)
    reader.cancel()
    done.set()


async def main():
    sub = "ocpp1.6" if VERSION == "1.6" else "ocpp2.0.1"
    async with websockets.serve(on_connect, "127.0.0.1", 0, subprotocols=[sub]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await done.wait()
    print(json.dumps(received), flush=True)


done = asyncio.Event()
asyncio.run(asyncio.wait_for(main(), 30))
