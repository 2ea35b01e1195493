#!/usr/bin/env python3
"""A permessage-deflate interop peer on Python's `websockets` (10.x legacy asyncio API).

Speaks the JSON-lines protocol of test/deflate/peers/js_peer.ts: a ready line, then
`{"id", "op", ...}` commands answered with `{"id", "ok", ...}`.

    /usr/bin/python3 test/deflate/peers/python_peer.py

- `serve {sets}`: one echo server per named parameter set, answers `{ports}`.
- `run {url, params, plan, timeoutMs}`: connects, sends the plan (test/deflate/plan.ts;
  payloads are made here the same way in spirit: exact sizes, JSON-ish, random, a
  repeated 8191-byte block), checks every echo, closes with 1000.

Parameter sets use wsflow's names (serverNoContextTakeover, clientNoContextTakeover,
serverMaxWindowBits, clientMaxWindowBits); `threshold` does not exist in websockets,
which compresses every message.
"""

import asyncio
import json
import os
import random
import sys
import time

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory

MAX_SIZE = 16 * 1024 * 1024
PATTERN_BLOCK = 8191
FIRST = ["ada", "brian", "chen", "dora", "emil", "fatima", "grace", "hugo"]
TAGS = ["alpha", "beta", "gamma", "delta", "release", "staging", "eu-west", "us-east"]


def json_text(size, seed):
    rng = random.Random(seed)
    out = ["["]
    length = 1
    ident = 1
    while length < size:
        name = rng.choice(FIRST)
        record = (
            ("," if ident > 1 else "")
            + '{"id":%d,"user":"%s-%d","email":"%s@example.com","active":%s,"score":%s,"tags":["%s","%s"]}'
            % (ident, name, rng.randrange(1000), name, "true" if rng.random() < 0.5 else "false", rng.randrange(10000) / 100, rng.choice(TAGS), rng.choice(TAGS))
        )
        out.append(record)
        length += len(record)
        ident += 1
    return "".join(out)[:size]


def random_text(size, seed):
    rng = random.Random(seed)
    chars = []
    used = 0
    while used < size:
        room = size - used
        kind = rng.randrange(4) if room >= 4 else 0
        if kind == 0:
            chars.append(chr(0x21 + rng.randrange(94)))
            used += 1
        elif kind == 1:
            chars.append(chr(0x80 + rng.randrange(0x780)))
            used += 2
        elif kind == 2:
            chars.append(chr(0x800 + rng.randrange(0xD800 - 0x800)))
            used += 3
        else:
            chars.append(chr(0x10000 + rng.randrange(0x100000)))
            used += 4
    return "".join(chars)


def random_bytes(size, seed):
    return random.Random(seed).randbytes(size)


def payload_of(item, index):
    gen, size, seed = item["gen"], item["size"], item["seed"]
    if gen == "json" or (gen == "random" and item["type"] == "text"):
        text = json_text(size, seed) if gen == "json" else random_text(size, seed)
        if index >= 0:
            text = ("%04d" % index + text[4:])[:size]
        if "mark" in item:
            prefix = "!%s " % item["mark"]
            text = (prefix + text[len(prefix):])[:size]
        return text if item["type"] == "text" else text.encode("utf-8")
    if gen == "pattern":
        block = random_bytes(PATTERN_BLOCK, seed)
        return (block * (size // PATTERN_BLOCK + 1))[:size]
    return random_bytes(size, seed)


def client_factory(params):
    bits = params.get("clientMaxWindowBits", True)
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=params.get("serverNoContextTakeover", False),
        client_no_context_takeover=params.get("clientNoContextTakeover", False),
        server_max_window_bits=params.get("serverMaxWindowBits"),
        client_max_window_bits=bits,
    )


def server_factory(params):
    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=params.get("serverNoContextTakeover", False),
        client_no_context_takeover=params.get("clientNoContextTakeover", False),
        server_max_window_bits=params.get("serverMaxWindowBits"),
        client_max_window_bits=params.get("clientMaxWindowBits"),
    )


servers = []


async def echo(websocket, path=None):
    try:
        async for message in websocket:
            await websocket.send(message)
    except websockets.ConnectionClosed:
        pass


async def serve(sets):
    ports = {}
    for name, params in sets.items():
        server = await websockets.serve(
            echo, "127.0.0.1", 0, compression=None, extensions=[server_factory(params or {})], max_size=MAX_SIZE, max_queue=None
        )
        servers.append(server)
        ports[name] = server.sockets[0].getsockname()[1]
    return {"ports": ports}


async def run(url, params, plan, timeout):
    started = time.monotonic()
    deadline = started + timeout
    async with websockets.connect(
        url, compression=None, extensions=[client_factory(params or {})], max_size=MAX_SIZE, max_queue=None, open_timeout=10
    ) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        sent = matched = 0
        mismatches = []
        for item in plan:
            count = item.get("count") or 1
            group = []
            for i in range(count):
                entry = item
                data = payload_of(entry, i if count > 1 else -1)
                await ws.send(data)
                sent += 1
                group.append((entry, data))
            for entry, data in group:
                got = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
                if got == data and type(got) is type(data):
                    matched += 1
                elif len(mismatches) < 5:
                    mismatches.append("%s/%s/%d: echo differs" % (entry["type"], entry["gen"], entry["size"]))
        await ws.close(1000)
        code = ws.close_code
    return {"extensions": extensions, "sent": sent, "matched": matched, "mismatches": mismatches, "closeCode": code, "ms": int((time.monotonic() - started) * 1000)}


def write(answer):
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


async def handle(command):
    try:
        op = command["op"]
        if op == "serve":
            result = await serve(command["sets"])
        elif op == "run":
            result = await run(command["url"], command.get("params"), command["plan"], command.get("timeoutMs", 30000) / 1000)
        elif op == "exit":
            for server in servers:
                server.close()
            write({"id": command["id"], "ok": True})
            os._exit(0)
        else:
            raise ValueError("unknown op %r" % op)
        write(dict(result, id=command["id"], ok=True))
    except Exception as error:  # reported to the runner, which fails the test
        write({"id": command["id"], "ok": False, "error": "%s: %s" % (type(error).__name__, error)})


async def main():
    write({"ready": True, "runtime": "python websockets %s" % websockets.__version__})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            return
        if not line.strip():
            continue
        task = asyncio.ensure_future(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


if __name__ == "__main__":
    asyncio.run(main())
