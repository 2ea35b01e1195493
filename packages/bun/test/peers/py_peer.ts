// A python-websockets peer for the interop tests, kept as a string so that it travels with the
// bundled tests (run it with `python3 -c PY_PEER client URL` or `python3 -c PY_PEER server`).
// The script's own docstring says what each mode does.
export const PY_PEER = String.raw`"""A python-websockets peer for the interop tests (an independent RFC 6455 implementation).

  py_peer.py client URL   connects, checks that messages of several sizes come back unchanged,
                          pings, closes with 4000 "py bye"; prints one JSON line of results.
  py_peer.py server       serves on 127.0.0.1 (OS-chosen port, printed as "port N"): echoes
                          every message, selects subprotocol "chat" when offered, and closes
                          with 4001 "py server bye" when it receives the text "close-me".
Every wait is bounded; the process exits on its own.
"""
import asyncio
import json
import os
import sys

import websockets


SIZES = [0, 125, 126, 65535, 65536, 1 << 20]


async def client(url):
    results = {"echo": [], "pong": False}
    async with websockets.connect(url, max_size=1 << 25, open_timeout=10, close_timeout=5) as ws:
        for size in SIZES:
            data = os.urandom(size)
            await ws.send(data)
            back = await asyncio.wait_for(ws.recv(), 10)
            results["echo"].append(["binary", size, back == data])
            text = "ü" * (size // 2)
            await ws.send(text)
            back = await asyncio.wait_for(ws.recv(), 10)
            results["echo"].append(["text", size, back == text])
        waiter = await ws.ping(b"py-ping")
        await asyncio.wait_for(waiter, 5)
        results["pong"] = True
        await ws.close(4000, "py bye")
        results["close"] = [ws.close_code, ws.close_reason]
    print(json.dumps(results), flush=True)


async def server():
    async def handler(ws, _path=None):
        async for message in ws:
            if message == "close-me":
                await ws.close(4001, "py server bye")
                return
            await ws.send(message)

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=1 << 25, subprotocols=["chat"]) as srv:
        port = srv.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        # Serve until stdin closes (the test ends us) or 60 s pass.
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(None, sys.stdin.read)
        await asyncio.wait_for(done, 60)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2]))
    else:
        try:
            asyncio.run(server())
        except asyncio.TimeoutError:
            pass
`;
