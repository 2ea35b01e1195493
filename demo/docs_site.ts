/**
 * The API documentation site (`npm run docs` builds it into docs-site/) served by the demo
 * at `/docs/`, when it has been built. Kept apart from the chat so that the demo's own
 * routes stay as they are.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** TypeDoc's pages set their theme with an inline script and use inline styles. */
const DOCS_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * A handler for `/docs` and everything under it, serving files from `dir`. It answers
 * (and returns true) only for those paths and only when `dir` exists; anything else is
 * left to the caller (false). Paths that leave `dir` are 404.
 */
export function docsSite(dir: string): (pathname: string, request: IncomingMessage, response: ServerResponse) => boolean {
  return (pathname, request, response) => {
    if (pathname !== '/docs' && !pathname.startsWith('/docs/')) return false;
    if (!existsSync(dir)) return false;
    if (pathname === '/docs') {
      response.writeHead(308, { location: '/docs/' });
      response.end();
      return true;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(pathname.slice('/docs/'.length));
    } catch {
      rel = '\0';
    }
    let file = normalize(join(dir, rel));
    if (file !== dir && !file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) file = '';
    if (file !== '' && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (file === '' || rel.includes('\0') || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...DOCS_HEADERS });
      response.end('not found\n');
      return true;
    }
    const body = readFileSync(file);
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
      ...DOCS_HEADERS,
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
}
