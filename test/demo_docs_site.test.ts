// demo/docs_site.ts: the demo serves the built API site at /docs/, and nothing outside it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsSite } from '../demo/docs_site.ts';

const root = join(import.meta.dirname, '..');
mkdirSync(join(root, '.tmp'), { recursive: true });
const dir = mkdtempSync(join(root, '.tmp', 'docs-site-'));
let server: Server;
let base: string;

beforeAll(async () => {
  mkdirSync(join(dir, 'site', 'modules'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<h1>wsflow</h1>');
  writeFileSync(join(dir, 'site', 'modules', 'codec.html'), '<h1>codec</h1>');
  writeFileSync(join(dir, 'secret.txt'), 'outside the site');
  const built = docsSite(join(dir, 'site'));
  const missing = docsSite(join(dir, 'not-built'));
  server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    if (pathname.startsWith('/missing')) {
      if (!missing(pathname.slice('/missing'.length), request, response)) response.end('fallthrough');
      return;
    }
    if (!built(pathname, request, response)) response.end('fallthrough');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe('demo docs site', () => {
  it('serves the site index at /docs/ and pages under it', async () => {
    const index = await fetch(`${base}/docs/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toBe('<h1>wsflow</h1>');
    expect(await (await fetch(`${base}/docs/modules/codec.html`)).text()).toBe('<h1>codec</h1>');
  });

  it('redirects /docs to /docs/ and answers 404 for a missing page', async () => {
    const r = await fetch(`${base}/docs`, { redirect: 'manual' });
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe('/docs/');
    expect((await fetch(`${base}/docs/nope.html`)).status).toBe(404);
  });

  it('serves nothing outside the site directory', async () => {
    const r = await fetch(`${base}/docs/..%2fsecret.txt`);
    expect(r.status).toBe(404);
    expect(await r.text()).not.toContain('outside');
  });

  it('leaves other paths, and /docs/ before the site is built, to the demo', async () => {
    expect(await (await fetch(`${base}/app.js`)).text()).toBe('fallthrough');
    expect(await (await fetch(`${base}/missing/docs/`)).text()).toBe('fallthrough');
  });
});
