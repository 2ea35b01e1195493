"""An echo-and-command WebSocket peer on the Python `websockets` library (10.x legacy API),
for wsflow's Node interop tests.

  py_peer.py server [--tls CERT KEY] [--origin ORIGIN]...
      listens on 127.0.0.1, port chosen by the OS; prints {"event": "listening", "port": N}.
      Each connection's id is the `id` query parameter of its request.
  py_peer.py client
      reads one JSON command per line on stdin:
      {"op": "connect", "id": ..., "url": ..., "protocols": [...], "origin": ..., "ca": PATH}

Every connection runs the same bot: it echoes messages (text as text, binary as binary)
and obeys text commands starting with "@@cmd " (see `command`). What it observes is
reported on stdout as JSON lines {"id": ..., "event": ..., ...}.
"""

import asyncio
import json
import ssl
import sys
import urllib.parse

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

PREFIX = "@@cmd "
SUBPROTOCOLS = ["chat", "superchat"]
TEXT_UNIT = "a\u00e9\u20ac\U0001F600"  # 1 + 2 + 3 + 4 = 10 UTF-8 bytes
COMMON = dict(max_size=None, ping_interval=None, compression=None, max_queue=None)


def emit(cid, event, **fields):
    sys.stdout.write(json.dumps({"id": cid, "event": event, **fields}) + "\n")
    sys.stdout.flush()


def fragment_content(kind, size):
    if kind == "text":
        return TEXT_UNIT * (size // 10)
    return bytes(i % 251 for i in range(size))


def split(content, n):
    if n <= 1 or len(content) == 0:
        return [content]
    step = -(-len(content) // n)
    return [content[i : i + step] for i in range(0, len(content), step)]


async def command(ws, cid, text):
    name, _, rest = text.partition(" ")
    if name == "close":
        code, _, reason = rest.partition(" ")
        await ws.close(int(code), reason)
    elif name == "ping":
        async def ping():
            waiter = await ws.ping(rest.encode())
            await waiter
            await ws.send("pong " + rest)
        asyncio.ensure_future(ping())
    elif name == "fragments":
        kind, n, size = rest.split(" ")
        await ws.send(split(fragment_content(kind, int(size)), int(n)))
    elif name == "protocol":
        await ws.send("protocol " + (ws.subprotocol or ""))
    elif name == "terminate":
        ws.transport.abort()
    else:
        await ws.send("unknown " + name)


async def bot(ws, cid):
    emit(cid, "open", protocol=ws.subprotocol or "")
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith(PREFIX):
                await command(ws, cid, message[len(PREFIX):])
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    emit(cid, "closed", code=ws.close_code, reason=ws.close_reason or "")


async def run_server(args):
    tls = None
    origins = None
    i = 0
    while i < len(args):
        if args[i] == "--tls":
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(args[i + 1], args[i + 2])
            i += 3
        elif args[i] == "--origin":
            origins = (origins or [None]) + [args[i + 1]]
            i += 2
        else:
            raise SystemExit("unknown argument " + args[i])

    async def handler(ws):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.path).query)
        await bot(ws, query.get("id", ["?"])[0])

    server = await websockets.serve(handler, "127.0.0.1", 0, ssl=tls, subprotocols=SUBPROTOCOLS, origins=origins, **COMMON)
    port = server.sockets[0].getsockname()[1]
    emit(None, "listening", port=port)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    server.close()
    await server.wait_closed()


async def client(spec):
    cid = spec["id"]
    tls = None
    if spec["url"].startswith("wss:"):
        tls = ssl.create_default_context(cafile=spec.get("ca"))
    try:
        ws = await websockets.connect(
            spec["url"], subprotocols=spec.get("protocols") or None, origin=spec.get("origin"), ssl=tls, **COMMON
        )
    except InvalidStatusCode as error:
        emit(cid, "rejected", status=error.status_code, headers={k.lower(): v for k, v in error.headers.raw_items()})
        return
    except Exception as error:  # noqa: BLE001 - reported, not raised
        emit(cid, "rejected", status=None, message=repr(error))
        return
    await bot(ws, cid)


async def run_client():
    loop = asyncio.get_running_loop()
    tasks = set()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        spec = json.loads(line)
        if spec.get("op") == "connect":
            task = asyncio.ensure_future(client(spec))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "server":
        asyncio.run(run_server(sys.argv[2:]))
    elif mode == "client":
        asyncio.run(run_client())
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
