// Test certificates made with the system's `openssl`: a CA, server certificates it signs for
// 127.0.0.1 and localhost (each with a new key), and their SHA-256 fingerprints — what a real operator's
// private CA issues, for the TLS tests of the hub.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export interface TestCa { dir: string; name: string; certFile: string; keyFile: string; pem: string }
export interface ServerCertificate { certFile: string; keyFile: string; fingerprint256: string }

function openssl (args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A self-signed CA (EC P-256, valid two days) in `dir`. */
export function makeCa (dir: string, name: string): TestCa {
  fs.mkdirSync(dir, { recursive: true })
  const keyFile = path.join(dir, `${name}.key`)
  const certFile = path.join(dir, `${name}.crt`)
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir)
  return { dir, name, certFile, keyFile, pem: fs.readFileSync(certFile, 'utf8') }
}

/** A server certificate for 127.0.0.1 and localhost with a new key, signed by `ca`, as `<name>.crt` and `<name>.key`. */
export function makeServerCertificate (ca: TestCa, name: string): ServerCertificate {
  const keyFile = path.join(ca.dir, `${name}.key`)
  const csr = path.join(ca.dir, `${name}.csr`)
  const certFile = path.join(ca.dir, `${name}.crt`)
  const ext = path.join(ca.dir, `${name}.ext`)
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr,
    '-subj', `/CN=${name}`], ca.dir)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '1',
    '-extfile', ext], ca.dir)
  return { certFile, keyFile, fingerprint256: new X509Certificate(fs.readFileSync(certFile)).fingerprint256 }
}

/** Replaces `to`'s certificate and key with `from`'s, each file written whole and renamed into place
 *  (what an operator's deploy or certbot does): the key first, then the certificate. */
export function installCertificate (from: { certFile: string; keyFile: string }, to: { certFile: string; keyFile: string }): void {
  for (const [src, dst] of [[from.keyFile, to.keyFile], [from.certFile, to.certFile]] as const) {
    const tmp = `${dst}.tmp`
    fs.copyFileSync(src, tmp)
    fs.renameSync(tmp, dst)
  }
}
