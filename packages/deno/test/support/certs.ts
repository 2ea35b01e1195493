/**
 * A throwaway certificate authority and a server certificate for `localhost` and
 * `127.0.0.1`, made with the `openssl` CLI at test time (rustls, behind Deno's TLS, wants a
 * real chain: a self-signed CA certificate is refused as an end-entity certificate).
 * @module
 */

/** PEM strings of a test chain. */
export interface TestCertificates {
  /** The CA certificate to trust (`caCerts`). */
  ca: string;
  /** The server's certificate. */
  cert: string;
  /** The server's private key. */
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command('openssl', { args, cwd, stdout: 'null', stderr: 'piped' }).output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Makes a CA and a server certificate signed by it, valid for one day, in a temporary directory it then removes. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: 'wsflow-deno-certs-' });
  try {
    await Deno.writeTextFile(`${dir}/leaf.ext`, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=wsflow test CA'], dir);
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'leaf.ext'], dir);
    return {
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      cert: await Deno.readTextFile(`${dir}/server.pem`),
      key: await Deno.readTextFile(`${dir}/server.key`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
