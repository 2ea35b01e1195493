// The server's behaviour on every runtime, written once: this file runs under Vitest
// against @wsflow/node, and under Deno and Bun against their shims (`#shim`). Each case
// was a drift between the runtimes, or a crash, before the server engine.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, runtime, serve, type ErrorContext, type RejectionInfo, type WebSocketConnection } from './support/shim.ts';
import { exchange, statusOf, until, upgradeHead } from './support/raw.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = Parameters<typeof serve>[0];

async function start(options: Options): Promise<{ port: number; close(): Promise<void> }> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

/** Resolves with the next message on `conn`. */
function nextMessage(conn: WebSocketConnection): Promise<string | Uint8Array> {
  return new Promise((resolve) => (conn.onmessage = resolve));
}

describe(`server on ${runtime}: plain HTTP`, () => {
  it('answers a request that is no upgrade 426, reported as UPGRADE_REQUIRED', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, onReject: (info) => void rejected.push(info) });
    const answer = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(statusOf(answer)).toBe(426);
    expect(answer.toLowerCase()).toContain('sec-websocket-version: 13');
    await until(() => rejected.length === 1, 'onReject');
    expect([rejected[0].status, rejected[0].code]).toEqual([426, 'UPGRADE_REQUIRED']);
  });

  it('hands plain requests to `fetch`, with the body and the peer address', async () => {
    const server = await start({
      handler: echo,
      fetch: async (request, info) => new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()} from ${info.remoteAddress}`, { status: 201 }),
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/page`, { method: 'POST', body: 'hi' });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('POST /page hi from 127.0.0.1');
  });

  it('sends an upgrade for another path to `fetch` when there is one, else refuses it with 400 PATH_MISMATCH', async () => {
    const withFetch = await start({ handler: echo, path: '/chat', fetch: (request) => new Response(`fetch got ${new URL(request.url).pathname}`) });
    const answered = await exchange(withFetch.port, upgradeHead('/other', '127.0.0.1'));
    expect(statusOf(answered)).toBe(200);
    expect(answered).toContain('fetch got /other');
    const rejected: RejectionInfo[] = [];
    const without = await start({ handler: echo, path: '/chat', onReject: (info) => void rejected.push(info) });
    expect(statusOf(await exchange(without.port, upgradeHead('/other', '127.0.0.1')))).toBe(400);
    await until(() => rejected.length === 1, 'onReject');
    expect(rejected[0].code).toBe('PATH_MISMATCH');
  });

  it('answers 500 when `fetch` throws, and tells onError', async () => {
    const errors: Array<[unknown, ErrorContext]> = [];
    const server = await start({
      fetch: () => {
        throw new Error('broken fetch');
      },
      onError: (error, context) => void errors.push([error, context]),
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(500);
    await response.arrayBuffer();
    await until(() => errors.length === 1, 'onError');
    expect((errors[0][0] as Error).message).toBe('broken fetch');
    expect(errors[0][1].source).toBe('fetch');
  });
});

describe(`server on ${runtime}: options are checked at serve()`, () => {
  it('refuses a misspelt option, naming it and the likely one', async () => {
    await expect(serve({ maxPayLoad: 10 } as Options)).rejects.toThrow(/unknown option "maxPayLoad" \(did you mean "maxPayload"\?\)/);
  });

  it('refuses the old name of the plain-HTTP handler', async () => {
    await expect(serve({ fallback: () => new Response('') } as Options)).rejects.toThrow(TypeError);
  });

  it('refuses a header value with CR/LF before any handshake', async () => {
    await expect(serve({ headers: { 'X-Id': '7\r\nSet-Cookie: a=b' } })).rejects.toThrow(/option "headers"/);
  });

  it('refuses a hook that is not a function and a path without a slash', async () => {
    await expect(serve({ authorize: 'yes' } as unknown as Options)).rejects.toThrow(/option "authorize" must be a function/);
    await expect(serve({ path: 'chat' })).rejects.toThrow(/option "path"/);
  });
});

describe(`server on ${runtime}: the URL the hooks see`, () => {
  it('resolves an origin-form target against the Host', async () => {
    const seen: string[] = [];
    const server = await start({ handler: echo, authorize: ({ url }) => void seen.push(url.href) });
    const answer = await exchange(server.port, upgradeHead('/c?token=real', 'example.com:8080'), 1000);
    expect(statusOf(answer)).toBe(101);
    expect(seen).toEqual(['ws://example.com:8080/c?token=real']);
  });

  it('gives an absolute-form target its own authority, with the listener scheme', async () => {
    const seen: string[] = [];
    const server = await start({ handler: echo, path: '/c', authorize: ({ url }) => void seen.push(url.href) });
    const answer = await exchange(server.port, upgradeHead('http://evil.example/c', '127.0.0.1'), 1000);
    expect(statusOf(answer)).toBe(101);
    expect(seen).toEqual(['ws://evil.example/c']);
  });

  for (const host of ['x/admin?', 'x?token=forged&z=', 'x#frag', 'user@x', 'x y']) {
    it(`refuses Host ${JSON.stringify(host)} with 400 before any hook runs`, async () => {
      const rejected: RejectionInfo[] = [];
      let hooked = 0;
      const server = await start({ handler: echo, path: '/c', authorize: () => void hooked++, onReject: (info) => void rejected.push(info) });
      const answer = await exchange(server.port, upgradeHead('/c?token=real', host));
      expect(statusOf(answer)).toBe(400);
      await until(() => rejected.length === 1, 'onReject');
      expect(rejected[0].code).toBe('BAD_HOST');
      expect(hooked).toBe(0);
    });
  }
});

describe(`server on ${runtime}: what authorize answers`, () => {
  for (const [name, result] of [
    ['status 200', { status: 200 }],
    ['a header with CR/LF', { status: 401, headers: { 'WWW-Authenticate': 'Bearer\r\nX: y' } }],
  ] as const) {
    it(`answers 500 for a refusal with ${name}, and onReject says so`, async () => {
      const rejected: RejectionInfo[] = [];
      const server = await start({ handler: echo, authorize: () => result, onReject: (info) => void rejected.push(info) });
      const answer = await exchange(server.port, upgradeHead('/', '127.0.0.1'));
      expect(statusOf(answer)).toBe(500);
      await until(() => rejected.length === 1, 'onReject');
      expect([rejected[0].status, rejected[0].code]).toEqual([500, 'HOOK_FAILED']);
      expect(rejected[0].error).toBeInstanceOf(Error);
    });
  }
});

describe(`server on ${runtime}: user code that throws`, () => {
  it('closes only the connection whose onmessage threw, with 1011, and tells onError', async () => {
    const errors: Array<[unknown, ErrorContext]> = [];
    const server = await start({
      handler: (conn) => {
        conn.onmessage = (data) => {
          if (data === 'boom') throw new Error('handler bug');
          conn.send(data);
        };
      },
      onError: (error, context) => void errors.push([error, context]),
    });
    const url = `ws://127.0.0.1:${server.port}/`;
    const [victim, bystander] = await Promise.all([connect(url), connect(url)]);
    victim.send('boom');
    const { closeCode } = await victim.closed;
    expect(closeCode).toBe(1011);
    await until(() => errors.length === 1, 'onError');
    expect((errors[0][0] as Error).message).toBe('handler bug');
    expect(errors[0][1].source).toBe('connection');
    expect(errors[0][1].remoteAddress).toBe('127.0.0.1');
    const reply = nextMessage(bystander);
    bystander.send('still here');
    expect(await reply).toBe('still here');
    bystander.close();
  });

  for (const kind of ['sync', 'async'] as const) {
    it(`closes with 1011 when the handler throws (${kind}), and the server carries on`, async () => {
      const errors: ErrorContext[] = [];
      let first = true;
      const server = await start({
        handler: (conn) => {
          if (first) {
            first = false;
            if (kind === 'sync') throw new Error('sync bug');
            return Promise.reject(new Error('async bug'));
          }
          echo(conn);
        },
        onError: (_error, context) => void errors.push(context),
      });
      const url = `ws://127.0.0.1:${server.port}/`;
      const victim = await connect(url);
      expect((await victim.closed).closeCode).toBe(1011);
      await until(() => errors.length === 1, 'onError');
      expect(errors[0].source).toBe('handler');
      const next = await connect(url);
      const reply = nextMessage(next);
      next.send('after');
      expect(await reply).toBe('after');
      next.close();
    });
  }

  it('reports a throwing onReject instead of failing the server', async () => {
    const errors: ErrorContext[] = [];
    const server = await start({
      handler: echo,
      onReject: () => {
        throw new Error('logger bug');
      },
      onError: (_error, context) => void errors.push(context),
    });
    expect(statusOf(await exchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'))).toBe(426);
    await until(() => errors.length === 1, 'onError');
    expect(errors[0].source).toBe('onReject');
    const conn = await connect(`ws://127.0.0.1:${server.port}/`);
    conn.close();
  });
});

describe(`server on ${runtime}: shutdown`, () => {
  it('closes open connections with 1001 and refuses new ones', async () => {
    const server = await serve({ handler: echo });
    const conn = await connect(`ws://127.0.0.1:${server.port}/`);
    await server.close();
    expect((await conn.closed).closeCode).toBe(1001);
    await expect(connect(`ws://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });
});
