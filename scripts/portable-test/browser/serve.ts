/**
 * Serves a bundle of ./bundle.ts to a browser from a node:http server on 127.0.0.1 (port 0,
 * a secure context, so `crypto.subtle` is there): a blank page at `/` and the bundle's
 * files under `/suite/`. The runner opens `/`, then awaits
 * `import('/suite/main.js').then((m) => m.result)`, the harness's `RunResult`.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserBundle } from './bundle.ts';

const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>wsflow portable tests</title><p>wsflow portable tests</p>';

export interface SuiteServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { js: 'text/javascript', map: 'application/json' };

export async function serveBundle(bundle: BrowserBundle): Promise<SuiteServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const headers = (type: string) => ({ 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
    if (path === '/') {
      res.writeHead(200, headers('text/html'));
      res.end(PAGE);
      return;
    }
    const file = path.startsWith('/suite/') ? bundle.files.get(path.slice('/suite/'.length)) : undefined;
    if (file === undefined) {
      res.writeHead(404, headers('text/plain'));
      res.end('not found');
      return;
    }
    res.writeHead(200, headers(TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream'));
    res.end(file);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
