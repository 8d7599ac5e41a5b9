// TLS end to end: a real hub process serving wss:// from certificate files signed by a test CA (made
// with openssl), SDK clients that verify it with the `tls.ca` option, payments running while the
// operator replaces the files. The rotation is picked up without a restart; no payment fails; the
// connections made before it stay up (no new socket, the hub's rotation line counts both sessions);
// a connection made after it gets the new certificate; a client with the wrong CA is refused with a
// ClientError naming the certificate; a mismatched pair put in place is refused and the certificate
// in use stays.
import fs from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'
import t from 'tap'
import { runHubctl } from '../../../hub/ctl/main.ts'
import { ClientError, createNodeClient, wsSocketFactoryWith, type HubClient } from '../../../client-sdk/node.ts'
import type { SocketFactory } from '../../../client-sdk/transport/socket.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { installCertificate, makeCa, makeServerCertificate, type TestCa } from '../../helpers/certificates.ts'
import {
  fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor, type HubProcess,
} from '../../helpers/hub.ts'

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` gets, verified against `ca`. */
async function servedFingerprint (url: string, ca: TestCa): Promise<string> {
  const u = new URL(url)
  return await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca: ca.pem }, () => {
      const fp = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fp)
    })
    socket.once('error', reject)
  })
}

t.test('e2e TLS: the certificate rotates mid-payments without a failed payment or a dropped session', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-tls')
  const ca = makeCa(path.join(dir, 'pki'), 'test-ca')
  const otherCa = makeCa(path.join(dir, 'pki-other'), 'other-ca')
  const first = makeServerCertificate(ca, 'server-1')
  const second = makeServerCertificate(ca, 'server-2')
  const third = makeServerCertificate(ca, 'server-3')
  fs.mkdirSync(path.join(dir, 'live'))
  const live = { certFile: path.join(dir, 'live', 'hub.crt'), keyFile: path.join(dir, 'live', 'hub.key') }
  installCertificate(first, live)

  const hub: HubProcess = await startHub({
    dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc,
    config: { transport: { tls: { ...live, settleMs: 200, pollIntervalMs: 1_000 } } },
  }, t)
  t.match(hub.url, /^wss:\/\/127\.0\.0\.1:\d+$/, 'the hub serves wss://')
  t.equal(await servedFingerprint(hub.url, ca), first.fingerprint256, 'the hub serves the certificate in the files')
  await fundHub(btc, hub, 5_000_000)

  // Both parties count the sockets they open: a reconnection would open another.
  const sockets = { platform: 0, creator: 0 }
  const counting = (who: keyof typeof sockets): SocketFactory => {
    const verified = wsSocketFactoryWith({ ca: ca.pem })
    return async url => { sockets[who]++; return await verified(url) }
  }
  const platform = await startClient(
    { hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', socketFactory: counting('platform') }, t,
  )
  const creator = await startClient(
    { hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator', socketFactory: counting('creator') }, t,
  )
  await openFundedChannel(btc, platform, 2_000_000)
  await requestHubChannel(btc, creator)
  const socketsBefore = { ...sockets }

  // Payments without a pause, three at a time, until told to stop.
  let paying = true
  let paid = 0
  const failures: string[] = []
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; paying; i++) {
      const inv = await creator.createInvoice({ amountMsat: 10_000 + w, memo: `tls ${w}/${i}` })
      const r = await platform.pay(inv.invoice)
      if (r.ok) paid++
      else failures.push(`${w}/${i}: ${r.reason}: ${r.detail}`)
    }
  }
  const workers = Promise.all([0, 1, 2].map(worker))
  await waitFor(() => paid >= 10, 'payments before the rotation', 60_000)

  const rotated = hub.waitLine(l => l.event === 'tls_rotated', 60_000)
  installCertificate(second, live)
  const line = await rotated
  t.equal(line.fingerprint256, second.fingerprint256, 'the hub installed the new certificate')
  t.equal(line.previous_fingerprint256, first.fingerprint256, 'in place of the first')
  t.equal(line.sessions, 2, 'both sessions were up when the new certificate was installed')
  const paidAtRotation = paid
  await waitFor(() => paid >= paidAtRotation + 10, 'payments after the rotation', 60_000)
  t.equal(await servedFingerprint(hub.url, ca), second.fingerprint256, 'a connection made after the rotation gets the new certificate')

  // A client started after the rotation, through the `tls` option, connects and is paid.
  const late: HubClient = await createNodeClient({
    nodeKey: randomKey(), hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dir, 'late'), role: 'creator', chain: btc.chain,
    tls: { ca: ca.pem },
  })
  t.teardown(() => late.stop())
  await late.connect()
  t.ok(late.hubPolicyInfo, 'a client started after the rotation verified the new certificate and got the hub policy')

  // A client that trusts another CA is refused, and says why.
  const stranger = await createNodeClient({
    nodeKey: randomKey(), hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dir, 'stranger'), role: 'creator', chain: btc.chain,
    tls: { ca: otherCa.pem }, connectTimeoutMs: 3_000,
  })
  t.teardown(() => stranger.stop())
  const refusal = await stranger.connect().then(() => undefined, (e: unknown) => e)
  t.ok(refusal instanceof ClientError, 'connect() rejects with a ClientError')
  t.comment(`the stranger's refusal: ${String((refusal as Error).message)}`)
  t.equal((refusal as ClientError).reason, 'hub_unreachable', 'reason hub_unreachable')
  t.match((refusal as ClientError).detail, /the hub's TLS certificate was refused \([A-Z_]+\)/, 'the detail names the certificate problem')

  // A mismatched pair (a certificate with another certificate's key) is refused; the one in use stays.
  const refused = hub.waitLine(l => l.event === 'tls_rotation_refused', 60_000)
  installCertificate({ certFile: third.certFile, keyFile: first.keyFile }, live)
  const refusedLine = await refused
  t.match(String(refusedLine.error), /keyFile: is not the key of the certificate/, 'the refusal names the mismatch')
  t.equal(refusedLine.kept_fingerprint256, second.fingerprint256, 'the refusal names the certificate kept')
  t.equal(await servedFingerprint(hub.url, ca), second.fingerprint256, 'new connections still get the good certificate')
  const paidAtRefusal = paid
  await waitFor(() => paid >= paidAtRefusal + 5, 'payments after the refused pair', 60_000)

  // hubctl rotate-cert reads the files at once: the bad pair is refused with its reason (exit 1); a
  // good one is served (by this call, or by the watch if it came first).
  const hubctl = async (): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = []
    const err: string[] = []
    const code = await runHubctl(
      ['--data-dir', hub.dataDir, '--json', 'rotate-cert'], { stdout: s => out.push(s), stderr: s => err.push(s) }, {},
    )
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
  const bad = await hubctl()
  t.equal(bad.code, 1, 'hubctl rotate-cert with a bad pair in the files: exit 1 (the hub refused)')
  t.match(bad.err, /is not the key of the certificate/, 'and says why')
  installCertificate(third, live)
  const good = await hubctl()
  t.equal(good.code, 0, 'hubctl rotate-cert with a good pair: exit 0')
  t.equal((JSON.parse(good.out) as { fingerprint256: string }).fingerprint256, third.fingerprint256, 'it names the certificate served')
  t.equal(await servedFingerprint(hub.url, ca), third.fingerprint256, 'new connections get it')

  paying = false
  await workers
  t.same(failures, [], 'no payment failed')
  t.ok(paid >= paidAtRefusal + 5, `${paid} payments made across the rotation`)
  t.same(sockets, socketsBefore, 'neither client opened another socket: their sessions stayed up across the rotation')
})
