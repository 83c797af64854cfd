"""Interop: the Python `ocpp` package as a charging station against our CSMS server.

usage: station.py <1.6|2.0.1> <ws-url-with-station-id>
Sends BootNotification, Heartbeat and StatusNotification, and prints one JSON object with the
answers it received.
"""
import asyncio
import json
import sys

import websockets

VERSION, URL = sys.argv[1], sys.argv[2]


async def run16(ws):
    from ocpp.v16 import ChargePoint, call

    cp = ChargePoint("py16", ws)
    reader = asyncio.ensure_future(cp.start())
    boot = await cp.call(call.BootNotification(charge_point_vendor="PyVendor", charge_point_model="PyModel"))
    hb = await cp.call(call.Heartbeat())
    st = await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
    reader.cancel()
    return {"boot_status": str(boot.status), "boot_interval": boot.interval, "heartbeat_time": hb.current_time, "status_answered": st is not None}


async def run201(ws):
    from ocpp.v201 import ChargePoint, call

    cp = ChargePoint("py201", ws)
    reader = asyncio.ensure_future(cp.start())
    boot = await cp.call(call.BootNotification(
        charging_station={"model": "PyModel", "vendor_name": "PyVendor"}, reason="PowerUp"))
    hb = await cp.call(call.Heartbeat())
    st = await cp.call(call.StatusNotification(
        timestamp="2025-01-01T00:00:00Z", connector_status="Occupied", evse_id=1, connector_id=2))
    reader.cancel()
    return {"boot_status": str(boot.status), "boot_interval": boot.interval, "heartbeat_time": hb.current_time, "status_answered": st is not None}


async def main():
    sub = "ocpp1.6" if VERSION == "1.6" else "ocpp2.0.1"
    async with websockets.connect(URL, subprotocols=[sub]) as ws:
        result = await (run16(ws) if VERSION == "1.6" else run201(ws))
        result["subprotocol"] = ws.subprotocol
    print(json.dumps(result), flush=True)


asyncio.run(asyncio.wait_for(main(), 20))
