// BtcdRpc and BtcdChainBackend against a tiny fake HTTP server (unit tests only; integration tests
// use a real btcd): malformed replies are refused naming the field, 503s are retried, slow replies
// time out, and no more than MAX_IN_FLIGHT requests are ever open.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { BtcdRpc, MAX_IN_FLIGHT } from '../../../../../host/chain/btcd/rpc.ts'
import { BtcdChainBackend } from '../../../../../host/chain/btcd/backend.ts'

type Handler = (body: { method: string; params: unknown[]; id: number }, res: http.ServerResponse) => void

async function fakeNode (t: Tap, handler: Handler): Promise<{ port: number; stats: { requests: number; maxOpen: number } }> {
  const stats = { requests: 0, maxOpen: 0 }
  let open = 0
  const srv = http.createServer((req, res) => {
    let data = ''
    req.on('data', c => { data += c })
    req.on('end', () => {
      stats.requests++
      open++
      stats.maxOpen = Math.max(stats.maxOpen, open)
      res.on('close', () => { open-- })
      handler(JSON.parse(data), res)
    })
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { srv.closeAllConnections(); srv.close(() => resolve()) }))
  return { port: (srv.address() as AddressInfo).port, stats }
}
interface Tap { teardown (fn: () => unknown): void }

const reply = (res: http.ServerResponse, id: number, result: unknown, error: unknown = null): void => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ result, error, id }))
}

function backend (t: Tap, port: number, extra: Partial<ConstructorParameters<typeof BtcdChainBackend>[0]> = {}): BtcdChainBackend {
  const b = new BtcdChainBackend({
    host: '127.0.0.1', port, user: 'u', pass: 'p', notifications: false, pollMs: 0, attempts: 3, timeoutMs: 500, ...extra
  })
  t.teardown(() => b.close())
  return b
}

t.test('malformed replies are refused by the schema with an error naming the field', async t => {
  const replies: Record<string, unknown> = {
    getbestblock: { hash: 'zz', height: 5 },
    getblockhash: 12,
    getblock: { hash: 'a'.repeat(64), height: 1, time: 1, rawtx: [{ hex: 1234, txid: 'b'.repeat(64) }] },
    gettxout: { bestblock: 'c'.repeat(64), confirmations: 1, value: -1, scriptPubKey: { hex: '00' }, coinbase: false }
  }
  const { port } = await fakeNode(t, (b, res) => reply(res, b.id, replies[b.method]))
  const chain = backend(t, port)
  const tip = await chain.tip()
  t.same(tip.ok ? null : tip.error.kind, 'bad_reply')
  t.match(tip.ok ? '' : tip.error.detail, /^getbestblock\.result\.hash: expected 64 lowercase hex characters/)
  const hash = await chain.getBlockHash(1)
  t.match(hash.ok ? '' : hash.error.detail, /^getblockhash\.result: .*expected string/i)
  const block = await chain.getBlock('a'.repeat(64))
  t.match(block.ok ? '' : block.error.detail, /^getblock\.result\.rawtx\.0\.hex: .*expected string/i)
  const out = await chain.getTxOut('d'.repeat(64), 0)
  t.match(out.ok ? '' : out.error.detail, /^gettxout\.result\.value: /)
})

t.test('non-JSON, a broken envelope, and a tx whose hex is not its txid are refused too', async t => {
  let mode = 0
  const { port } = await fakeNode(t, (b, res) => {
    if (mode === 0) { res.writeHead(200); res.end('<html>proxy error</html>') } else if (mode === 1) {
      res.writeHead(200); res.end(JSON.stringify({ result: 1, error: { code: 'x', message: 5 }, id: b.id }))
    } else {
      reply(res, b.id, { hex: '00', txid: 'e'.repeat(64) })
    }
  })
  const chain = backend(t, port)
  const a = await chain.tip()
  t.match(a.ok ? '' : a.error.detail, /getbestblock: reply is not JSON/)
  mode = 1
  const b = await chain.tip()
  t.match(b.ok ? '' : b.error.detail, /^getbestblock\.error\.code: /)
  mode = 2
  const c = await chain.getRawTransaction('e'.repeat(64))
  t.match(c.ok ? '' : c.error.detail, /^getrawtransaction\.result\.hex: not a transaction/)
})

t.test('HTTP 503 (btcd over its client limit) is retried, for reads and for broadcasts', async t => {
  let busy = 2
  const { port, stats } = await fakeNode(t, (b, res) => {
    if (busy > 0) { busy--; res.writeHead(503); res.end('503 Too busy.  Try again later.'); return }
    reply(res, b.id, b.method === 'sendrawtransaction' ? 'f'.repeat(64) : { hash: 'a'.repeat(64), height: 7 })
  })
  const chain = backend(t, port)
  const tip = await chain.tip()
  t.same(tip.ok && tip.value, { height: 7, hash: 'a'.repeat(64) })
  t.equal(stats.requests, 3, 'two 503s, then the answer')
  busy = 1
  const sent = await chain.broadcast('00')
  t.same(sent.ok && sent.value, 'f'.repeat(64), 'a 503 means not processed: safe to resend')
  busy = 5
  const gaveUp = await chain.tip()
  t.same(gaveUp.ok ? null : gaveUp.error, { kind: 'unavailable', detail: 'getbestblock: HTTP 503 (node busy) after 3 attempts' })
})

t.test('a reply slower than the timeout: reads retry then report unavailable; a broadcast is not resent', async t => {
  const { port, stats } = await fakeNode(t, () => { /* never answers */ })
  const chain = backend(t, port, { timeoutMs: 100 })
  const tip = await chain.tip()
  t.equal(tip.ok ? null : tip.error.kind, 'unavailable')
  t.match(tip.ok ? '' : tip.error.detail, /timed out after 100 ms after 3 attempts/)
  t.equal(stats.requests, 3)
  const before = stats.requests
  const sent = await chain.broadcast('00')
  t.equal(sent.ok ? null : sent.error.kind, 'unavailable')
  t.match(sent.ok ? '' : sent.error.detail, /not retried/)
  t.equal(stats.requests - before, 1, 'sent once only')
})

t.test('JSON-RPC refusals: not-found codes become null, broadcast refusals become typed rejections', async t => {
  const { port } = await fakeNode(t, (b, res) => {
    res.writeHead(500, { 'content-type': 'application/json' })
    if (b.method === 'sendrawtransaction') res.end(JSON.stringify({
      result: null, error: { code: -26, message: 'TX rejected: transaction abc has 0 fees which is under the required amount of 141' },
      id: b.id,
    }))
    else if (b.method === 'getblockhash') res.end(JSON.stringify({
      result: null, error: { code: -1, message: 'Block number out of range' }, id: b.id,
    }))
    else res.end(JSON.stringify({ result: null, error: { code: -5, message: 'No information available about transaction' }, id: b.id }))
  })
  const chain = backend(t, port)
  t.same(await chain.getBlockHash(999), { ok: true, value: null })
  t.same(await chain.getRawTransaction('a'.repeat(64)), { ok: true, value: null })
  const sent = await chain.broadcast('00')
  t.same(
    sent.ok ? null : { kind: sent.error.kind, reason: 'reason' in sent.error ? sent.error.reason : '' },
    { kind: 'rejected', reason: 'insufficient_fee' },
  )
})

t.test(`never more than ${MAX_IN_FLIGHT} requests open at once`, async t => {
  const { port, stats } = await fakeNode(t, (b, res) => setTimeout(() => reply(res, b.id, 1), 20))
  const rpc = new BtcdRpc({ host: '127.0.0.1', port, user: 'u', pass: 'p' })
  t.teardown(() => rpc.close())
  const rs = await Promise.all(Array.from({ length: 40 }, () => rpc.request('getblockcount', [], z.number(), { idempotent: true })))
  t.equal(rs.filter(r => r.ok).length, 40)
  t.ok(stats.maxOpen <= MAX_IN_FLIGHT, `at most ${stats.maxOpen} open`)
  t.ok(stats.maxOpen > 1, 'but requests do run in parallel')
})

t.test('wrong credentials are an rpc_error, not retried', async t => {
  const { port, stats } = await fakeNode(t, (_b, res) => { res.writeHead(401); res.end() })
  const chain = backend(t, port)
  const tip = await chain.tip()
  t.same(tip.ok ? null : { kind: tip.error.kind, code: 'code' in tip.error ? tip.error.code : 0 }, { kind: 'rpc_error', code: 401 })
  t.equal(stats.requests, 1)
})
