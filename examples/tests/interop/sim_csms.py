"""Interop: the Python `ocpp` package (PyPI) as the CSMS of ocpp-sim's stations.

usage: sim_csms.py <1.6|2.0.1> <seconds>
Prints `PORT <n>` once listening on 127.0.0.1. Answers every message a simulated station sends
during a charging session (boot, heartbeat, status, authorize, transactions, meter values),
calls each station once (1.6 GetConfiguration + ChangeConfiguration, 2.0.1 GetVariables +
SetVariables), and after <seconds> prints one JSON object: counts per action, transactions
started and ended, and the answers to its calls.
"""
import asyncio
import json
import sys
from collections import Counter
from datetime import datetime, timezone

import websockets
from ocpp.routing import on

VERSION = sys.argv[1]
SECONDS = float(sys.argv[2])
counts = Counter()
started, ended = set(), set()
answers = {}
next_tx = [0]


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def make_cp(ws, sid):
    if VERSION == "1.6":
        from ocpp.v16 import ChargePoint, call, call_result

        class CP(ChargePoint):
            @on("BootNotification")
            def boot(self, **kw):
                counts["BootNotification"] += 1
                return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

            @on("Heartbeat")
            def hb(self, **kw):
                counts["Heartbeat"] += 1
                return call_result.Heartbeat(current_time=now())

            @on("StatusNotification")
            def status(self, **kw):
                counts["StatusNotification"] += 1
                return call_result.StatusNotification()

            @on("Authorize")
            def authorize(self, id_tag, **kw):
                counts["Authorize"] += 1
                return call_result.Authorize(id_tag_info={"status": "Accepted"})

            @on("StartTransaction")
            def start_tx(self, connector_id, id_tag, meter_start, timestamp, **kw):
                counts["StartTransaction"] += 1
                next_tx[0] += 1
                started.add(f"{sid}/{next_tx[0]}")
                return call_result.StartTransaction(transaction_id=next_tx[0], id_tag_info={"status": "Accepted"})

            @on("MeterValues")
            def meter(self, **kw):
                counts["MeterValues"] += 1
                return call_result.MeterValues()

            @on("StopTransaction")
            def stop(self, transaction_id, meter_stop, timestamp, **kw):
                counts["StopTransaction"] += 1
                ended.add(f"{sid}/{transaction_id}")
                return call_result.StopTransaction()

        async def csms_calls(cp):
            r = await cp.call(call.GetConfiguration(key=["MeterValueSampleInterval", "NoSuchKey"]))
            answers[sid + " get"] = {"keys": r.configuration_key, "unknown": r.unknown_key}
            r = await cp.call(call.ChangeConfiguration(key="HeartbeatInterval", value="120"))
            answers[sid + " change"] = str(r.status)
            r = await cp.call(call.ChangeConfiguration(key="NumberOfConnectors", value="4"))
            answers[sid + " change readonly"] = str(r.status)
    else:
        from ocpp.v201 import ChargePoint, call, call_result

        class CP(ChargePoint):
            @on("BootNotification")
            def boot(self, **kw):
                counts["BootNotification"] += 1
                return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

            @on("Heartbeat")
            def hb(self, **kw):
                counts["Heartbeat"] += 1
                return call_result.Heartbeat(current_time=now())

            @on("StatusNotification")
            def status(self, **kw):
                counts["StatusNotification"] += 1
                return call_result.StatusNotification()

            @on("Authorize")
            def authorize(self, id_token, **kw):
                counts["Authorize"] += 1
                return call_result.Authorize(id_token_info={"status": "Accepted"})

            @on("TransactionEvent")
            def tx(self, event_type, transaction_info, **kw):
                counts["TransactionEvent"] += 1
                key = f"{sid}/{transaction_info['transaction_id']}"
                if event_type == "Started":
                    started.add(key)
                elif event_type == "Ended":
                    ended.add(key)
                return call_result.TransactionEvent()

        async def csms_calls(cp):
            r = await cp.call(call.GetVariables(get_variable_data=[
                {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}},
                {"component": {"name": "Nope"}, "variable": {"name": "X"}},
            ]))
            answers[sid + " get"] = [(x["attribute_status"], x.get("attribute_value")) for x in r.get_variable_result]
            r = await cp.call(call.SetVariables(set_variable_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attribute_value": "120"},
                {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}, "attribute_value": "3"},
            ]))
            answers[sid + " set"] = [x["attribute_status"] for x in r.set_variable_result]

    return CP(sid, ws), csms_calls


async def on_connect(ws):
    path = ws.request.path if hasattr(ws, "request") else ws.path
    sid = path.rstrip("/").split("/")[-1]
    cp, csms_calls = make_cp(ws, sid)
    reader = asyncio.ensure_future(cp.start())
    try:
        await asyncio.sleep(0.3)
        await csms_calls(cp)
    except Exception as e:  # reported, not raised: the summary says what failed
        answers[sid + " error"] = repr(e)
    try:
        await reader
    except Exception:
        pass


async def main():
    sub = "ocpp1.6" if VERSION == "1.6" else "ocpp2.0.1"
    async with websockets.serve(on_connect, "127.0.0.1", 0, subprotocols=[sub]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.sleep(SECONDS)
    print(json.dumps({"counts": counts, "started": sorted(started), "ended": sorted(ended), "answers": answers}), flush=True)


asyncio.run(main())
