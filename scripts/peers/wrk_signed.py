#!/usr/bin/env python3
"""Signs one KMS Decrypt request with SigV4 and writes a wrk Lua script that replays it.

Usage: wrk_signed.py --endpoint http://127.0.0.1:PORT --access-key-id ID --secret SECRET
                     --ciphertext BASE64 --output SCRIPT.lua [--context K=V[,K=V…]] [--region us-east-1]
                     [--rate REQUESTS_PER_SECOND --threads WRK_THREADS]

The request is what an AWS SDK sends: POST / with the JSON 1.1 body {"CiphertextBlob": ...,
"EncryptionContext": ...} (the context defaults to kms-load's, eventType=payments.card.captured, so the
request is the one kms-load's Decrypt sends for a ciphertext of its `ciphertext` operation), headers
Content-Type application/x-amz-json-1.1 and X-Amz-Target TrentService.Decrypt, signed in the
Authorization header (botocore's SigV4Auth, service kms) with the Host header of the endpoint. The Lua
script sets wrk's method, path, headers (Host included, exactly as signed) and body, so every request
wrk sends is byte-for-byte that one request. SigV4 accepts a signature for 15 minutes after its
X-Amz-Date: sign right before each run.

With --rate, the script also paces wrk at that many requests a second in all (a fixed schedule per wrk thread: each
request takes the thread's next slot, 1/(rate/threads) s after the one before, and waits for it in wrk's delay()),
so wrk, which is light, measures the latency at a fixed rate instead of at saturation. wrk counts a request's latency
from when it is sent: a request sent after its slot (every connection of its thread was busy) would hide that wait,
so the script counts such late sends and prints them (`late sends: N over 1 ms, the latest X ms late`) when wrk
ends; with none, wrk's latencies are the fixed-rate latencies.
"""

import argparse
import json
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def lua_string(text):
    """A Lua string literal of text (ASCII; everything outside printable ASCII escaped as \\ddd)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in "\\\"" or not 32 <= byte < 127:
            out.append("\\%03d" % byte)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--ciphertext", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--context", default="eventType=payments.card.captured")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--rate", type=float, help="pace wrk at this many requests a second in all")
    parser.add_argument("--threads", type=int, default=2, help="wrk's -t (the pace is split between threads)")
    args = parser.parse_args()

    endpoint = args.endpoint.rstrip("/")
    context = dict(pair.split("=", 1) for pair in args.context.split(",") if pair)
    body = json.dumps({"CiphertextBlob": args.ciphertext, "EncryptionContext": context}, separators=(",", ":"))
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService.Decrypt",
        "Host": urllib.parse.urlsplit(endpoint).netloc,
    })
    SigV4Auth(Credentials(args.access_key_id, args.secret), "kms", args.region).add_auth(request)

    lines = ['wrk.method = "POST"', 'wrk.path = "/"', "wrk.body = " + lua_string(body), "wrk.headers = {}"]
    for name, value in request.headers.items():
        lines.append("wrk.headers[%s] = %s" % (lua_string(name), lua_string(value)))
    if args.rate:
        lines.append(PACING % {"interval_ms": 1000.0 * args.threads / args.rate})
    with open(args.output, "w") as script:
        script.write("\n".join(lines) + "\n")


# wrk runs one Lua state per thread: `next_slot`, `late` and `latest` are per thread; done() sums them.
PACING = """
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } sealed_timespec; int clock_gettime(int, sealed_timespec *); ]]
local now_buffer = ffi.new("sealed_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_buffer) -- CLOCK_MONOTONIC
  return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end
local interval = %(interval_ms).6f
local next_slot = nil
late = 0
latest = 0
function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + interval
  if wait < -1 then
    late = late + 1
    if -wait > latest then latest = -wait end
  end
  if wait < 0 then return 0 end
  return wait
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local total, worst = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("late")
    if thread:get("latest") > worst then worst = thread:get("latest") end
  end
  io.write(string.format("late sends: %%d over 1 ms, the latest %%.1f ms late\\n", total, worst))
end
"""


if __name__ == "__main__":
    main()
