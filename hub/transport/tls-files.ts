// The hub's TLS certificate and key, read from PEM files (config `transport.tls`), and their rotation:
// the operator replaces the files and the hub picks the new pair up without a restart. A change is
// noticed by fs.watch on the files' directories (a file replaced by a rename is a new inode, so the
// directory is watched, not the file) and, as a fallback where fs.watch misses events (network file
// systems, some containers), by a stat of both files every `pollIntervalMs`. After a change the hub
// waits `settleMs` (a writer replaces the certificate and the key one after the other), then reads
// and checks the new pair: a certificate that does not parse, a key that is not the certificate's,
// or a certificate outside its validity period is refused with a log line, and the pair in use stays.
// A good pair goes to https.Server.setSecureContext(): established connections keep the session they
// have; new handshakes get the new certificate.
import fs from 'node:fs'
import path from 'node:path'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { z } from 'zod'

const ms = (min: number, max: number) => z.number().int({ error: 'must be an integer (ms)' }).min(min).max(max)

/** Where the hub's certificate and key are, and how often their rotation is looked for. */
export const tlsFilesSchema = z.strictObject({
  /** The server certificate in PEM, optionally followed by its intermediate certificates. */
  certFile: z.string().min(1).max(4096),
  /** The certificate's private key in PEM (unencrypted: the hub starts unattended). */
  keyFile: z.string().min(1).max(4096),
  /** The wait between a change seen and the read: long enough for a writer to replace both files
   *  (a half-replaced pair is refused and read again at the next change), short enough that new
   *  handshakes get the new certificate at once. At most a minute: a rotation must not hang. */
  settleMs: ms(0, 60_000).default(500),
  /** The stat of both files that finds a change fs.watch did not report. 10 s by default: two stats
   *  per period cost nothing, and a certificate is rotated well before the old one expires. At
   *  least 100 ms (a stat loop), at most an hour. */
  pollIntervalMs: ms(100, 3_600_000).default(10_000),
})
export type TlsFiles = z.output<typeof tlsFilesSchema>

/** A checked certificate and key, ready for node:https (`cert`, `key`). */
export interface CertificatePair {
  cert: Buffer
  key: Buffer
  /** SHA-256 fingerprint of the certificate (colon-separated hex, as node:crypto and openssl print it). */
  fingerprint256: string
  validTo: string
}

export type PairResult = { ok: true; pair: CertificatePair } | { ok: false; error: string }

/** Reads and checks the pair in `files` at time `nowMs`; the error names the file and what is wrong. */
export function loadCertificatePair (files: Pick<TlsFiles, 'certFile' | 'keyFile'>, nowMs: number): PairResult {
  let cert: Buffer
  let key: Buffer
  try { cert = fs.readFileSync(files.certFile) } catch (e) {
    return { ok: false, error: `certFile: cannot read ${files.certFile}: ${errText(e)}` }
  }
  try { key = fs.readFileSync(files.keyFile) } catch (e) {
    return { ok: false, error: `keyFile: cannot read ${files.keyFile}: ${errText(e)}` }
  }
  let x509: X509Certificate
  try { x509 = new X509Certificate(cert) } catch (e) { return { ok: false, error: `certFile: not a PEM certificate: ${errText(e)}` } }
  let privateKey
  try { privateKey = createPrivateKey(key) } catch (e) { return { ok: false, error: `keyFile: not a PEM private key: ${errText(e)}` } }
  if (!x509.checkPrivateKey(privateKey)) return { ok: false, error: 'keyFile: is not the key of the certificate in certFile' }
  if (Date.parse(x509.validTo) <= nowMs) return { ok: false, error: `certFile: expired (valid to ${x509.validTo})` }
  if (Date.parse(x509.validFrom) > nowMs) return { ok: false, error: `certFile: not valid yet (valid from ${x509.validFrom})` }
  // What the TLS stack itself refuses (e.g. a key type or size OpenSSL's security level forbids).
  try { createSecureContext({ cert, key }) } catch (e) { return { ok: false, error: `the pair is refused by TLS: ${errText(e)}` } }
  return { ok: true, pair: { cert, key, fingerprint256: x509.fingerprint256, validTo: x509.validTo } }
}

export interface CertificateRotationOptions {
  files: TlsFiles
  /** The pair in use now (loaded at start). */
  current: CertificatePair
  /** Serves new handshakes with `pair` (https.Server.setSecureContext). */
  install: (pair: CertificatePair) => void
  log: (event: Record<string, unknown>) => void
  /** Authenticated sessions now: the rotation's log line shows they stayed up. */
  sessions?: () => number
  now?: () => number
}

/** What a rotation did: installed a new pair (`changed`), found the same one, or refused the files. */
export type RotationAnswer =
  | { ok: true; changed: boolean; fingerprint256: string; previous_fingerprint256: string }
  | { ok: false; error: string; kept_fingerprint256: string }

/** Watches the certificate files and installs each new good pair; stop() ends the watching. */
export class CertificateRotation {
  private readonly watchers: fs.FSWatcher[] = []
  private readonly poll: ReturnType<typeof setInterval>
  private settle: ReturnType<typeof setTimeout> | undefined
  /** The files' stats at the last read (a pair installed or refused): a read happens when they change. */
  private lastRead: string
  private current: CertificatePair
  private stopped = false

  constructor (private readonly o: CertificateRotationOptions) {
    this.current = o.current
    this.lastRead = this.stats()
    const names = new Set([path.basename(o.files.certFile), path.basename(o.files.keyFile)])
    for (const dir of new Set([path.dirname(o.files.certFile), path.dirname(o.files.keyFile)])) {
      try {
        const w = fs.watch(dir, (_event, name) => { if (name === null || names.has(String(name))) this.changed() })
        w.on('error', e => { o.log({ event: 'tls_watch_failed', dir, error: errText(e), fallback_poll_ms: o.files.pollIntervalMs }) })
        this.watchers.push(w)
      } catch (e) {
        o.log({ event: 'tls_watch_failed', dir, error: errText(e), fallback_poll_ms: o.files.pollIntervalMs })
      }
    }
    this.poll = setInterval(() => { if (this.stats() !== this.lastRead) this.changed() }, o.files.pollIntervalMs)
    this.poll.unref()
  }

  get fingerprint256 (): string { return this.current.fingerprint256 }

  stop (): void {
    this.stopped = true
    clearInterval(this.poll)
    clearTimeout(this.settle)
    for (const w of this.watchers.splice(0)) w.close()
  }

  private changed (): void {
    if (this.stopped) return
    clearTimeout(this.settle)
    this.settle = setTimeout(() => { this.reload() }, this.o.files.settleMs)
    this.settle.unref()
  }

  /** Reads the files now (hubctl rotate-cert) and installs their pair if it is good and new. */
  reloadNow (): RotationAnswer {
    clearTimeout(this.settle)
    this.lastRead = this.stats()
    return this.apply()
  }

  private reload (): void {
    if (this.stopped) return
    const stats = this.stats()
    if (stats === this.lastRead) return
    this.lastRead = stats
    this.apply()
  }

  private apply (): RotationAnswer {
    const kept = this.current.fingerprint256
    const r = loadCertificatePair(this.o.files, (this.o.now ?? Date.now)())
    const refuse = (error: string): RotationAnswer => {
      this.o.log({ event: 'tls_rotation_refused', error, kept_fingerprint256: kept })
      return { ok: false, error, kept_fingerprint256: kept }
    }
    if (!r.ok) return refuse(r.error)
    if (r.pair.fingerprint256 === kept && r.pair.key.equals(this.current.key)) {
      return { ok: true, changed: false, fingerprint256: kept, previous_fingerprint256: kept }
    }
    try {
      this.o.install(r.pair)
    } catch (e) {
      return refuse(errText(e))
    }
    this.current = r.pair
    this.o.log({
      event: 'tls_rotated', fingerprint256: r.pair.fingerprint256, previous_fingerprint256: kept, valid_to: r.pair.validTo,
      ...(this.o.sessions !== undefined ? { sessions: this.o.sessions() } : {}),
    })
    return { ok: true, changed: true, fingerprint256: r.pair.fingerprint256, previous_fingerprint256: kept }
  }

  /** Identity and change markers of both files ('' for a missing one). */
  private stats (): string {
    return [this.o.files.certFile, this.o.files.keyFile].map(f => {
      try {
        const s = fs.statSync(f)
        return `${s.ino}:${s.size}:${s.mtimeMs}`
      } catch { return '' }
    }).join('|')
  }
}

function errText (e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
