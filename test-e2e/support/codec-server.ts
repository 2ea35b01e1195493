/**
 * A tiny node:http server on 127.0.0.1 (port 0) for the browser specs. It serves a blank
 * page at `/` and, at `/codec/<module>.js`, the codec's `packages/codec/src/<module>.ts`
 * bundled by esbuild at request time (ESM, platform browser): the specs test the
 * source as it is now, with no build step. `/codec/index.js` is the whole public API.
 * 127.0.0.1 is a secure context, so `crypto.subtle` is available to the page.
 */
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const codecSrc = fileURLToPath(new URL('../../packages/codec/src/', import.meta.url));

/** Bundles one codec module for the browser; throws esbuild's messages if it fails. */
export async function bundleCodecModule(name: string): Promise<string> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a codec module name: ${name}`);
  const result = await build({
    entryPoints: [`${codecSrc}${name}.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export interface CodecServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** The bundle served at `/codec/<name>.js` (built once per server); rejects with esbuild's errors. */
  bundle(name: string): Promise<string>;
  close(): Promise<void>;
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>wsflow codec e2e</title><p>wsflow codec e2e</p>';

export async function startCodecServer(): Promise<CodecServer> {
  const bundles = new Map<string, Promise<string>>();
  const bundle = (name: string) => {
    if (!bundles.has(name)) bundles.set(name, bundleCodecModule(name));
    return bundles.get(name)!;
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/') return send(200, 'text/html', PAGE);
    const module = /^\/codec\/([a-z][a-z0-9_]*)\.js$/.exec(path);
    if (!module) return send(404, 'text/plain', 'not found');
    bundle(module[1]!).then(
      (js) => send(200, 'text/javascript', js),
      (e: Error) => send(500, 'text/plain', e.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    bundle,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the browser keeps connections alive
      }),
  };
}
