"""Interop: the Python `ocpp` package (which nobody here wrote) as a charging station running a
full charging session against `csms serve`.

usage: session.py <1.6|2.0.1|2.1> <ws-url-with-station-id>
Sends BootNotification, StatusNotification, Authorize, a transaction start, MeterValues and the
transaction end, and prints one JSON object with what the CSMS answered.
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
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing",
                                          timestamp="2025-02-01T10:00:00Z"))
    auth = await cp.call(call.Authorize(id_tag="PYTAG16"))
    start = await cp.call(call.StartTransaction(connector_id=1, id_tag="PYTAG16", meter_start=1000,
                                                timestamp="2025-02-01T10:00:05Z"))
    tx = start.transaction_id
    await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[
        {"timestamp": "2025-02-01T10:05:00Z", "sampled_value": [
            {"value": "1500.50", "measurand": "Energy.Active.Import.Register", "unit": "Wh",
             "context": "Sample.Periodic"},
            {"value": "16.0", "measurand": "Current.Import", "phase": "L1", "unit": "A"}]}]))
    stop = await cp.call(call.StopTransaction(meter_stop=2500, timestamp="2025-02-01T10:30:00Z",
                                              transaction_id=tx, reason="EVDisconnected", id_tag="PYTAG16"))
    reader.cancel()
    return {"boot_status": str(boot.status), "authorize": str(auth.id_tag_info["status"]),
            "transaction_id": str(tx), "start_status": str(start.id_tag_info["status"]),
            "stop_answered": stop is not None}


async def run2x(ws, module):
    import importlib
    call = importlib.import_module(module.__name__ + ".call")
    cp = module.ChargePoint("py2x", ws)
    reader = asyncio.ensure_future(cp.start())
    token = {"id_token": "PYTAG2", "type": "ISO14443"}
    boot = await cp.call(call.BootNotification(
        charging_station={"model": "PyModel", "vendor_name": "PyVendor"}, reason="PowerUp"))
    await cp.call(call.StatusNotification(
        timestamp="2025-02-01T10:00:00Z", connector_status="Occupied", evse_id=1, connector_id=1))
    auth = await cp.call(call.Authorize(id_token=token))
    tx = "py-" + VERSION
    answers = []
    for seq, (event, trigger) in enumerate([("Started", "Authorized"), ("Updated", "MeterValuePeriodic"),
                                             ("Ended", "StopAuthorized")]):
        info = {"transaction_id": tx, "charging_state": "Charging"}
        if event == "Ended":
            info["stopped_reason"] = "Local"
        r = await cp.call(call.TransactionEvent(
            event_type=event, timestamp="2025-02-01T10:0%d:00Z" % seq, trigger_reason=trigger,
            seq_no=seq, transaction_info=info, evse={"id": 1, "connector_id": 1}, id_token=token,
            meter_value=[{"timestamp": "2025-02-01T10:0%d:00Z" % seq, "sampled_value": [
                {"value": 1000.25 + seq, "measurand": "Energy.Active.Import.Register",
                 "unit_of_measure": {"unit": "Wh"}}]}]))
        answers.append(r.id_token_info["status"] if r.id_token_info else None)
    reader.cancel()
    return {"boot_status": str(boot.status), "authorize": str(auth.id_token_info["status"]),
            "transaction_id": tx, "event_answers": [str(a) for a in answers]}


async def main():
    sub = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[VERSION]
    async with websockets.connect(URL, subprotocols=[sub]) as ws:
        if VERSION == "1.6":
            result = await run16(ws)
        elif VERSION == "2.0.1":
            import ocpp.v201
            result = await run2x(ws, ocpp.v201)
        else:
            import ocpp.v21
            result = await run2x(ws, ocpp.v21)
        result["subprotocol"] = ws.subprotocol
    print(json.dumps(result), flush=True)


asyncio.run(asyncio.wait_for(main(), 30))
