#!/usr/bin/env python3
"""A matrix client driver on Python's `websockets` (asyncio, the 10.x legacy client).

Speaks the driver protocol of test/matrix/protocol.ts: one JSON command per line on
stdin, one JSON answer per line on stdout; the first line printed is the ready line.
The payload and CRC-32 rules are those of test/matrix/payload.ts (zlib.crc32 is the same
CRC-32); this file has their Python twin.

    /usr/bin/python3 test/matrix/drivers/python_driver.py

Capabilities: fragmented sends (an iterable of parts; text parts are whole characters),
Pings, and stopping reading (websockets stops reading the socket once `max_queue`
messages wait unread). A Close always carries a code (`close()` defaults to 1000).
"""

import asyncio
import json
import ssl
import sys
import zlib

import websockets

BINARY_BLOCK = 4093
TEXT_ALPHABET = ["a", "b", "é", "ж", "€", "中", "𝄞", "😀", "z", " "]


def binary_block(seed):
    block = bytearray(BINARY_BLOCK)
    state = ((seed & 0xFFFFFFFF) * 2654435761 + 1) & 0xFFFFFFFF
    for i in range(BINARY_BLOCK):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        block[i] = state >> 24
    return bytes(block)


def binary_payload(size, seed):
    if size == 0:
        return b""
    block = binary_block(seed)
    return (block * (size // BINARY_BLOCK + 1))[:size]


def text_payload(size, seed):
    n = len(TEXT_ALPHABET)
    cycle = [TEXT_ALPHABET[(seed + i) % n] for i in range(n)]
    cycle_text = "".join(cycle)
    cycle_bytes = len(cycle_text.encode("utf-8"))
    whole = size // cycle_bytes
    used = whole * cycle_bytes
    tail = ""
    for c in cycle:
        length = len(c.encode("utf-8"))
        if used + length > size:
            break
        tail += c
        used += length
    return cycle_text * whole + tail + "x" * (size - used)


def payload(kind, size, seed):
    return text_payload(size, seed) if kind == "text" else binary_payload(size, seed)


def digest(data):
    if isinstance(data, str):
        raw = data.encode("utf-8")
        return {"kind": "text", "size": len(raw), "crc": zlib.crc32(raw)}
    return {"kind": "binary", "size": len(data), "crc": zlib.crc32(data)}


def split(data, count):
    step = -(-len(data) // count) or 1
    parts = [data[i : i + step] for i in range(0, len(data), step)]
    return parts or [data[:0]]


def write(answer):
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


class Connection:
    def __init__(self, ws, paused):
        self.ws = ws
        self.queue = []
        self.changed = asyncio.Event()
        self.resumed = asyncio.Event()
        if not paused:
            self.resumed.set()
        # Stream mode (opened paused): binary messages are tallied, not queued.
        self.tally = {"messages": 0, "bytes": 0, "crc": 0, "error": None} if paused else None
        self.closed = None
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            while True:
                await self.resumed.wait()
                message = await self.ws.recv()
                if self.tally is None:
                    self.queue.append(digest(message))
                elif isinstance(message, str):
                    self.tally["error"] = self.tally["error"] or "stream mode: a text message"
                else:
                    self.tally["messages"] += 1
                    self.tally["bytes"] += len(message)
                    self.tally["crc"] = zlib.crc32(message, self.tally["crc"])
                self.wake()
        except websockets.ConnectionClosed:
            pass
        finally:
            await self.ws.wait_closed()
            ws = self.ws
            self.closed = {
                "code": ws.close_code,
                "reason": ws.close_reason,
                # Both Close frames exchanged (websockets keeps each).
                "wasClean": ws.close_rcvd is not None and ws.close_sent is not None,
            }
            self.wake()

    def wake(self):
        self.changed.set()
        self.changed = asyncio.Event()

    async def until(self, done):
        while not done():
            if self.closed is not None:
                raise RuntimeError("the connection closed (%s %r) first" % (self.closed["code"], self.closed["reason"]))
            await self.changed.wait()


connections = {}
next_conn = [1]


async def handle(command):
    op = command["op"]
    if op == "connect":
        url = command["url"]
        context = None
        if url.startswith("wss:"):
            context = ssl.create_default_context(cadata=command.get("ca"))
        try:
            ws = await asyncio.wait_for(
                websockets.connect(
                    url,
                    ssl=context,
                    subprotocols=command.get("protocols") or None,
                    origin=command.get("origin"),
                    max_size=64 * 1024 * 1024,
                    ping_interval=None,
                    close_timeout=5,
                ),
                command.get("timeoutMs", 10000) / 1000,
            )
        except websockets.InvalidStatusCode as error:
            return {"ok": False, "error": str(error), "status": error.status_code}
        n = next_conn[0]
        next_conn[0] += 1
        connections[n] = Connection(ws, command.get("paused") is True)
        return {"conn": n, "protocol": ws.subprotocol or ""}
    c = connections.get(command.get("conn"))
    if c is None:
        raise RuntimeError("no connection %s" % command.get("conn"))
    if op == "send":
        data = payload(command["kind"], command["size"], command["seed"])
        fragments = command.get("fragments")
        await c.ws.send(data if fragments is None else split(data, fragments))
        return {}
    if op == "recv":
        await asyncio.wait_for(c.until(lambda: len(c.queue) > 0), command["timeoutMs"] / 1000)
        return c.queue.pop(0)
    if op == "drain":
        tally = c.tally
        if tally is None:
            raise RuntimeError("drain: the connection was not opened paused")
        await asyncio.wait_for(c.until(lambda: tally["bytes"] >= command["bytes"] or tally["error"]), command["timeoutMs"] / 1000)
        if tally["error"]:
            raise RuntimeError(tally["error"])
        return {"messages": tally["messages"], "bytes": tally["bytes"], "crc": tally["crc"]}
    if op == "ping":
        waiter = await c.ws.ping(command["payload"])
        # websockets completes the waiter only for a Pong carrying this Ping's payload.
        await asyncio.wait_for(waiter, command["timeoutMs"] / 1000)
        return {"payload": command["payload"]}
    if op == "close":
        if "code" not in command:
            raise RuntimeError("unsupported: websockets' close() always sends a code")
        asyncio.ensure_future(c.ws.close(command["code"], command.get("reason", "")))
        return {}
    if op == "closed":
        await asyncio.wait_for(c.until(lambda: c.closed is not None), command["timeoutMs"] / 1000)
        del connections[command["conn"]]
        return dict(c.closed)
    if op == "pause":
        c.resumed.clear()
        return {}
    if op == "resume":
        c.resumed.set()
        return {}
    if op == "abort":
        connections.pop(command["conn"], None)
        c.ws.transport.abort()
        return {}
    raise RuntimeError("unknown op %s" % op)


async def run(command):
    try:
        result = await handle(command)
        if result.get("ok") is False:
            write(dict(result, id=command["id"]))
        else:
            write(dict(result, id=command["id"], ok=True))
    except asyncio.TimeoutError:
        write({"id": command["id"], "ok": False, "error": "timed out: %s" % command["op"]})
    except Exception as error:  # every failure is an answer
        write({"id": command["id"], "ok": False, "error": "%s: %s" % (type(error).__name__, error)})


async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    write({"ready": True, "runtime": "python %s websockets %s" % (sys.version.split()[0], websockets.__version__)})
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            break
        if not line.strip():
            continue
        command = json.loads(line)
        if command["op"] == "exit":
            write({"id": command["id"], "ok": True})
            break
        task = asyncio.ensure_future(run(command))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for c in list(connections.values()):
        c.ws.transport.abort()


if __name__ == "__main__":
    asyncio.run(main())
