// The hub's certificate files (hub/transport/tls-files.ts): a pair is checked before it is used (it
// parses, the key is the certificate's, the certificate is within its validity period), and the
// rotation installs a good new pair and refuses a bad one with a log line, keeping the pair in use.
// The certificates come from the system's openssl (test/helpers/certificates.ts).
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CertificateRotation, loadCertificatePair, tlsFilesSchema, type CertificatePair } from '../../../../hub/transport/tls-files.ts'
import { installCertificate, makeCa, makeServerCertificate } from '../../../helpers/certificates.ts'
import { tempDir, waitFor } from '../../../helpers/hub.ts'

const dir = tempDir('tls-files')
const ca = makeCa(dir, 'unit-ca')
const a = makeServerCertificate(ca, 'a')
const b = makeServerCertificate(ca, 'b')

t.test('loadCertificatePair: a good pair, and each bad one refused with the file named', async t => {
  const now = Date.now()
  const good = loadCertificatePair(a, now)
  t.ok(good.ok, 'a certificate with its own key loads')
  if (good.ok) t.equal(good.pair.fingerprint256, a.fingerprint256, 'with its fingerprint')
  t.match(loadCertificatePair({ certFile: a.certFile, keyFile: b.keyFile }, now),
    { ok: false, error: /^keyFile: is not the key of the certificate in certFile/ }, 'another certificate\'s key')
  const garbage = path.join(dir, 'garbage.pem')
  fs.writeFileSync(garbage, 'not a certificate\n')
  t.match(loadCertificatePair({ certFile: garbage, keyFile: a.keyFile }, now), { ok: false, error: /^certFile: not a PEM certificate/ })
  t.match(loadCertificatePair({ certFile: a.certFile, keyFile: garbage }, now), { ok: false, error: /^keyFile: not a PEM private key/ })
  t.match(loadCertificatePair({ certFile: a.certFile, keyFile: path.join(dir, 'missing.key') }, now),
    { ok: false, error: /^keyFile: cannot read / }, 'a missing key file')
  t.match(loadCertificatePair(a, now + 3 * 86_400_000), { ok: false, error: /^certFile: expired/ }, 'after its validity period')
  t.match(loadCertificatePair(a, now - 86_400_000), { ok: false, error: /^certFile: not valid yet/ }, 'before it')
})

t.test('tlsFilesSchema: bounded settle and poll periods', async t => {
  t.notOk(tlsFilesSchema.safeParse({ certFile: 'c', keyFile: 'k', pollIntervalMs: 10 }).success, 'a stat loop is refused')
  t.notOk(tlsFilesSchema.safeParse({ certFile: 'c', keyFile: 'k', settleMs: 600_000 }).success, 'a rotation may not hang')
  t.notOk(tlsFilesSchema.safeParse({ certFile: 'c' }).success, 'keyFile is required')
  t.match(tlsFilesSchema.parse({ certFile: 'c', keyFile: 'k' }), { settleMs: 500, pollIntervalMs: 10_000 }, 'defaults')
})

t.test('CertificateRotation: installs a good new pair, refuses a mismatched one and keeps the old', async t => {
  const liveDir = path.join(dir, 'live')
  fs.mkdirSync(liveDir)
  const live = { certFile: path.join(liveDir, 'hub.crt'), keyFile: path.join(liveDir, 'hub.key') }
  installCertificate(a, live)
  const first = loadCertificatePair(live, Date.now())
  if (!first.ok) throw new Error(first.error)
  const installed: CertificatePair[] = []
  const logs: Array<Record<string, unknown>> = []
  const rotation = new CertificateRotation({
    files: tlsFilesSchema.parse({ ...live, settleMs: 50, pollIntervalMs: 100 }), current: first.pair,
    install: p => { installed.push(p) }, log: l => { logs.push(l) }, sessions: () => 7,
  })
  t.teardown(() => rotation.stop())

  installCertificate(b, live)
  await waitFor(() => installed.length === 1, 'the new pair installed', 10_000)
  t.equal(installed[0]!.fingerprint256, b.fingerprint256, 'the new certificate was installed')
  t.equal(rotation.fingerprint256, b.fingerprint256, 'and is the one in use')
  t.match(
    logs.find(l => l.event === 'tls_rotated'), { fingerprint256: b.fingerprint256, previous_fingerprint256: a.fingerprint256, sessions: 7 },
  )

  installCertificate({ certFile: a.certFile, keyFile: b.keyFile }, live)
  await waitFor(() => logs.some(l => l.event === 'tls_rotation_refused'), 'the refusal', 10_000)
  t.match(logs.find(l => l.event === 'tls_rotation_refused'), { error: /keyFile: is not the key/, kept_fingerprint256: b.fingerprint256 })
  t.equal(installed.length, 1, 'the mismatched pair was not installed')
  t.equal(rotation.fingerprint256, b.fingerprint256, 'the pair in use stays')

  rotation.stop()
  installCertificate(a, live)
  await new Promise(resolve => setTimeout(resolve, 500))
  t.equal(installed.length, 1, 'a stopped rotation installs nothing')
})

t.test('CertificateRotation: where fs.watch fails, the periodic stat finds the new pair', async t => {
  const liveDir = path.join(dir, 'live-poll')
  fs.mkdirSync(liveDir)
  const live = { certFile: path.join(liveDir, 'hub.crt'), keyFile: path.join(liveDir, 'hub.key') }
  installCertificate(a, live)
  const first = loadCertificatePair(live, Date.now())
  if (!first.ok) throw new Error(first.error)
  // A file system without change notifications: fs.watch throws, as it does where inotify is unavailable.
  const watch = fs.watch
  fs.watch = (() => { throw new Error('ENOSYS: watch not supported') }) as typeof fs.watch
  const installed: CertificatePair[] = []
  const logs: Array<Record<string, unknown>> = []
  let rotation: CertificateRotation
  try {
    rotation = new CertificateRotation({
      files: tlsFilesSchema.parse({ ...live, settleMs: 0, pollIntervalMs: 200 }), current: first.pair,
      install: p => { installed.push(p) }, log: l => { logs.push(l) },
    })
  } finally { fs.watch = watch }
  t.teardown(() => rotation.stop())
  t.match(logs[0], { event: 'tls_watch_failed', dir: liveDir, fallback_poll_ms: 200 }, 'the failed watch is logged with the fallback')
  installCertificate(b, live)
  await waitFor(() => installed.length === 1, 'the new pair found by the stat', 10_000)
  t.equal(installed[0]!.fingerprint256, b.fingerprint256, 'the new certificate was installed')
})
