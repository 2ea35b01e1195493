// A self-signed certificate for 127.0.0.1 and localhost, made at test time with the openssl CLI.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bun } from './bun_test_api.ts';

export const hasOpenssl = Bun.which('openssl') !== null;

export interface TestCert {
  cert: string;
  key: string;
  dispose(): void;
}

export function makeCert(commonName = 'localhost'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-bun-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const result = Bun.spawnSync(
    [
      'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  );
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${new TextDecoder().decode(result.stderr)}`);
  return {
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
