// BOLT #3 transactions on a real btcd regtest node, with fresh random keys, for both channel types:
// the chain itself checks our scripts, witnesses, sighashes, timelocks and fees.
import t from 'tap'
import { deriveRevocationPrivkey, emptyShachain, insertSecret, deriveOldSecret, commitmentIndex } from '../../../protocol/keys/index.ts'
import {
  buildClaimTx, buildClosingTx, bumpHtlcTx, claimAnchor, claimRemoteHtlcSuccess, claimRemoteHtlcTimeout, finalizeFundingSpend,
  signFundingSpend, verifyFundingSpend, claimAnchorAfterDelay, claimRevokedHtlc, claimRevokedToLocal, claimToLocalDelayed, claimToRemote,
  finalizeHtlcTx, signHtlcTx, signWalletInputs, p2wpkh, type ChannelType, type Claim, type Tx, type WalletInput,
} from '../../../protocol/tx/index.ts'
import { msat, sat, type Txid } from '../../../protocol/types.ts'
import { mineUntilHeight, tipHeight, useBtcd } from '../../helpers/btcd.ts'
import {
  FEERATE, PREIMAGE_OFFERED, PREIMAGE_RECEIVED, TO_SELF_DELAY, aCommitment, broadcast, confirmations, curve, newParty, openChannel,
  walletCoin, type SignedCommitment,
} from './fixtures/channel.ts'

const btc = await useBtcd(t)
const sweepTo = p2wpkh(newParty().basepoints.paymentBasepoint)

/** A's fully signed second-stage tx for HTLC output k; anchors ones (zero fee) get a wallet input for the fee. */
function aHtlcTx (sc: SignedCommitment, k: number, coin: WalletInput & { script: Uint8Array } | undefined): Tx {
  let h = sc.htlcTxs[k]!
  const preimage = h.kind === 'htlc-success' ? PREIMAGE_RECEIVED : undefined
  if (sc.params.channelType !== 'anchors') return finalizeHtlcTx(
    h, sc.counterpartyHtlcSigs[k]!, signHtlcTx(h, sc.aHtlcPrivkey, 'holder', curve), preimage,
  )
  if (coin === undefined) throw new Error('anchors HTLC txs need a fee coin')
  const bumped = bumpHtlcTx(h, { walletInputs: [coin], changeScript: coin.script, feeratePerKw: FEERATE })
  if (!bumped.ok) throw new Error(bumped.detail)
  h = bumped.htlcTx
  // B's SIGHASH_SINGLE|ANYONECANPAY signature, made before the fee input existed, still holds.
  const tx = finalizeHtlcTx(h, sc.counterpartyHtlcSigs[k]!, signHtlcTx(h, sc.aHtlcPrivkey, 'holder', curve), preimage)
  return signWalletInputs(tx, [coin], 1, curve)
}

/** Confirmed P2WPKH coins to pay fees with (anchors only; static_remotekey txs carry their own fees). */
async function feeCoins (channelType: ChannelType, n: number): Promise<Array<WalletInput & { script: Uint8Array }>> {
  const coins = []
  if (channelType === 'anchors') for (let i = 0; i < n; i++) coins.push(await walletCoin(btc, 50_000))
  return coins
}

function claimTx (claims: Claim[], extra: Parameters<typeof buildClaimTx>[0]['walletInputs'] = []): Tx {
  const r = buildClaimTx({ claims, walletInputs: extra, destinationScript: sweepTo, feeratePerKw: FEERATE }, curve)
  if (!r.ok) throw new Error(r.detail)
  return r.tx
}

const outputOf = (sc: SignedCommitment, kind: string) => {
  const o = sc.commitment.outputs.find(x => x.kind === kind)
  if (o === undefined) throw new Error(`no ${kind} output`)
  return o
}
const htlcIndex = (
  sc: SignedCommitment, direction: 'offered' | 'received',
): number => sc.commitment.htlcOutputs.findIndex(o => o.htlc.direction === direction)

for (const channelType of ['static_remotekey', 'anchors'] as ChannelType[]) {
  t.test(`${channelType}: the latest commitment and everything that spends it`, async t => {
    const ch = await openChannel(btc, channelType)
    t.equal(await confirmations(btc, ch.fundingTxid), 1, 'funding tx confirmed')
    // Fee coins for anchors (zero-fee HTLC txs, 330-sat anchors), confirmed before the clock starts.
    const coins = await feeCoins(channelType, 4)
    const h0 = await tipHeight(btc)
    const cltv = h0 + 12
    const sc = aCommitment(ch, 1, cltv)
    t.equal(sc.commitment.htlcOutputs.length, 2)

    const sent = await broadcast(btc, sc.tx)
    t.ok(sent.ok, 'commitment accepted')
    await btc.mine(1)
    const C = await tipHeight(btc)
    t.equal(await confirmations(btc, sc.commitment.txid), 1, 'commitment confirmed')
    const { keys } = sc.params

    // HTLC-success with the preimage (anchors: its 1-block CSV has passed).
    const success = aHtlcTx(sc, htlcIndex(sc, 'received'), coins[0])
    const successSent = await broadcast(btc, success)
    t.ok(successSent.ok, `HTLC-success accepted ${successSent.ok ? '' : successSent.detail}`)

    // B takes its to_remote at once (anchors: after 1 block, which has passed).
    const toRemote = outputOf(sc, 'to_remote')
    const bClaim = claimTx([claimToRemote({
      channelType, outpoint: { txid: sc.commitment.txid, vout: toRemote.vout }, valueSat: toRemote.valueSat,
      paymentPrivkey: ch.b.secrets.payment,
    }, curve)])
    const bSent = await broadcast(btc, bClaim)
    t.ok(bSent.ok, `to_remote claim accepted ${bSent.ok ? '' : bSent.detail}`)

    if (channelType === 'anchors') {
      // BOLT #3: an anchor is spendable by its funding key at once...
      const la = outputOf(sc, 'local_anchor')
      const anchorSpend = claimTx([claimAnchor(
        { outpoint: { txid: sc.commitment.txid, vout: la.vout }, valueSat: la.valueSat, fundingPrivkey: ch.a.secrets.funding }, curve,
      )], [coins[1]!])
      const r = await broadcast(btc, anchorSpend)
      t.ok(r.ok, `local anchor spent by A's funding key ${r.ok ? '' : r.detail}`)
    }

    // to_local: rejected one block before to_self_delay, accepted at it.
    const toLocal = outputOf(sc, 'to_local')
    const sweep = claimTx([claimToLocalDelayed({
      outpoint: { txid: sc.commitment.txid, vout: toLocal.vout }, valueSat: toLocal.valueSat, revocationPubkey: keys.revocationPubkey,
      localDelayedPubkey: keys.localDelayedPubkey, toSelfDelay: TO_SELF_DELAY, localDelayedPrivkey: sc.aDelayedPrivkey,
    })])
    await mineUntilHeight(btc, C + TO_SELF_DELAY - 2)
    const early = await broadcast(btc, sweep)
    t.match(early, { ok: false, reason: 'sequence_locks_not_met' }, 'to_local sweep rejected one block early')
    await btc.mine(1)
    const onTime = await broadcast(btc, sweep)
    t.ok(onTime.ok, `to_local sweep accepted at to_self_delay ${onTime.ok ? '' : onTime.detail}`)

    // HTLC-timeout: rejected before its CLTV, accepted at it.
    const timeout = aHtlcTx(sc, htlcIndex(sc, 'offered'), coins[2])
    t.equal(timeout.locktime, cltv)
    await mineUntilHeight(btc, cltv - 1)
    const tooSoon = await broadcast(btc, timeout)
    t.match(tooSoon, { ok: false, reason: 'non_final' }, 'HTLC-timeout rejected before its CLTV')
    await btc.mine(1)
    const afterCltv = await broadcast(btc, timeout)
    t.ok(afterCltv.ok, `HTLC-timeout accepted after its CLTV ${afterCltv.ok ? '' : afterCltv.detail}`)
    await btc.mine(1)

    // The HTLC-success output, like to_local, is A's after to_self_delay.
    if (successSent.ok) {
      const h = sc.htlcTxs[htlcIndex(sc, 'received')]!
      const second = claimTx([claimToLocalDelayed({
        outpoint: { txid: successSent.txid, vout: 0 }, valueSat: h.tx.outputs[0]!.valueSat, revocationPubkey: keys.revocationPubkey,
        localDelayedPubkey: keys.localDelayedPubkey, toSelfDelay: TO_SELF_DELAY, localDelayedPrivkey: sc.aDelayedPrivkey,
      })])
      // HTLC-success confirmed at C + 1 and the tip is now past C + 1 + to_self_delay.
      t.ok(await tipHeight(btc) >= C + TO_SELF_DELAY)
      const r = await broadcast(btc, second)
      t.ok(r.ok, `HTLC-success output swept after to_self_delay ${r.ok ? '' : r.detail}`)
    }

    if (channelType === 'anchors') {
      // ...and by anyone 16 blocks after the commitment confirmed.
      const ra = outputOf(sc, 'remote_anchor')
      const anyone = claimTx([claimAnchorAfterDelay({
        outpoint: { txid: sc.commitment.txid, vout: ra.vout }, valueSat: ra.valueSat, fundingPubkey: ch.b.basepoints.fundingPubkey,
      })], [coins[3]!])
      t.ok(await tipHeight(btc) <= C + 14, 'still before the anchor CSV')
      await mineUntilHeight(btc, C + 14)
      const early = await broadcast(btc, anyone)
      t.match(early, { ok: false, reason: 'sequence_locks_not_met' }, 'remote anchor not sweepable by anyone before 16 blocks')
      await btc.mine(1)
      const r = await broadcast(btc, anyone)
      t.ok(r.ok, `remote anchor swept by anyone after 16 blocks ${r.ok ? '' : r.detail}`)
    }
    await btc.mine(1)
    for (const tx of [successSent, bSent, onTime, afterCltv]) if (tx.ok) t.ok(await confirmations(btc, tx.txid) >= 1, 'confirmed')
  })

  t.test(`${channelType}: B claims HTLCs from A's commitment (their commitment, to B): preimage at once, timeout after CLTV`, async t => {
    const ch = await openChannel(btc, channelType)
    const h0 = await tipHeight(btc)
    const receivedCltv = h0 + 5
    const sc = aCommitment(ch, 3, h0 + 50, receivedCltv)
    const sent = await broadcast(btc, sc.tx)
    t.ok(sent.ok, 'commitment accepted')
    await btc.mine(1)
    const txid = sc.commitment.txid
    // A offered this HTLC to B: B takes it with the preimage (anchors: nSequence 1, one block passed).
    const offered = sc.commitment.htlcOutputs[htlcIndex(sc, 'offered')]!
    const withPreimage = claimTx([claimRemoteHtlcSuccess({
      channelType, outpoint: { txid, vout: offered.vout }, valueSat: offered.valueSat, witnessScript: offered.witnessScript,
      htlcPrivkey: sc.bHtlcPrivkey, preimage: PREIMAGE_OFFERED,
    })])
    const r1 = await broadcast(btc, withPreimage)
    t.ok(r1.ok, `offered HTLC claimed by B with the preimage ${r1.ok ? '' : r1.detail}`)
    // A received this HTLC from B: B takes it back after its CLTV.
    const received = sc.commitment.htlcOutputs[htlcIndex(sc, 'received')]!
    const back = claimTx([claimRemoteHtlcTimeout({
      channelType, outpoint: { txid, vout: received.vout }, valueSat: received.valueSat, witnessScript: received.witnessScript,
      htlcPrivkey: sc.bHtlcPrivkey, cltvExpiry: receivedCltv,
    })])
    t.equal(back.locktime, receivedCltv)
    await mineUntilHeight(btc, receivedCltv - 1)
    t.match(await broadcast(btc, back), { ok: false, reason: 'non_final' }, 'timeout claim rejected before the CLTV')
    await btc.mine(1)
    const r2 = await broadcast(btc, back)
    t.ok(r2.ok, `timeout claim accepted at the CLTV ${r2.ok ? '' : r2.detail}`)
    await btc.mine(1)
    if (r1.ok && r2.ok) {
      t.ok(await confirmations(btc, r1.txid) >= 1, 'preimage claim confirmed')
      t.equal(await confirmations(btc, r2.txid), 1, 'timeout claim confirmed')
    }
  })

  t.test(`${channelType}: a cooperative closing tx signed by both is accepted`, async t => {
    const ch = await openChannel(btc, channelType)
    const close = buildClosingTx({
      funding: ch.funding, localScript: p2wpkh(ch.a.basepoints.paymentBasepoint), remoteScript: p2wpkh(ch.b.basepoints.paymentBasepoint),
      localMsat: msat(600_000_000), remoteMsat: msat(400_000_000), feeSat: sat(2000), localIsOpener: true, dustLimitSat: sat(546),
    })
    const aSig = signFundingSpend(close.tx, ch.funding, ch.a.secrets.funding, curve)
    const bSig = signFundingSpend(close.tx, ch.funding, ch.b.secrets.funding, curve)
    t.ok(verifyFundingSpend(close.tx, ch.funding, bSig, ch.b.basepoints.fundingPubkey, curve))
    const signed = finalizeFundingSpend(
      close.tx, ch.funding, { pubkey: ch.a.basepoints.fundingPubkey, sig64: aSig }, { pubkey: ch.b.basepoints.fundingPubkey, sig64: bSig },
    )
    const r = await broadcast(btc, signed)
    t.ok(r.ok, `closing tx accepted ${r.ok ? '' : r.detail}`)
    await btc.mine(1)
    if (r.ok) t.equal(await confirmations(btc, r.txid), 1)
  })

  t.test(`${channelType}: a revoked commitment is punished, second-stage HTLC output included`, async t => {
    const ch = await openChannel(btc, channelType)
    const coins = await feeCoins(channelType, 1)
    const h0 = await tipHeight(btc)
    const revoked = aCommitment(ch, 0, h0 + 50)
    aCommitment(ch, 1, h0 + 50) // the state that replaced it
    // A revokes commitment 0 (revoke_and_ack); B stores the secret in its shachain.
    const stored = insertSecret(emptyShachain(), commitmentIndex(0), revoked.perCommitmentSecret)
    if (!stored.ok) { t.fail(stored.error.detail); return }

    // A cheats: publishes commitment 0, then its HTLC-success tx for the HTLC it received.
    const cheat = await broadcast(btc, revoked.tx)
    t.ok(cheat.ok, 'revoked commitment accepted by the chain (only the penalty makes it a loss)')
    await btc.mine(1)
    const success = aHtlcTx(revoked, htlcIndex(revoked, 'received'), coins[0])
    const successSent = await broadcast(btc, success)
    t.ok(successSent.ok, `second-stage HTLC-success of the revoked commitment accepted ${successSent.ok ? '' : successSent.detail}`)
    await btc.mine(1)
    if (!successSent.ok) return

    // B: the revocation key from its revocation basepoint secret and A's revealed secret.
    const secret = deriveOldSecret(stored.value, commitmentIndex(0))!
    const revocationPrivkey = deriveRevocationPrivkey(ch.b.secrets.revocation, secret, curve)
    const { keys } = revoked.params
    t.same(curve.pubkey(revocationPrivkey), keys.revocationPubkey, 'revocation privkey matches the commitment key')
    const commitmentTxid = revoked.commitment.txid
    const toLocal = outputOf(revoked, 'to_local')
    const offered = revoked.commitment.htlcOutputs[htlcIndex(revoked, 'offered')]!
    const successTx = revoked.htlcTxs[htlcIndex(revoked, 'received')]!
    const penalty = claimTx([
      claimRevokedToLocal({
        outpoint: { txid: commitmentTxid, vout: toLocal.vout }, valueSat: toLocal.valueSat, revocationPubkey: keys.revocationPubkey,
        localDelayedPubkey: keys.localDelayedPubkey, toSelfDelay: TO_SELF_DELAY, revocationPrivkey,
      }),
      claimRevokedHtlc({
        outpoint: { txid: commitmentTxid, vout: offered.vout }, valueSat: offered.valueSat, witnessScript: offered.witnessScript,
        revocationPubkey: keys.revocationPubkey, revocationPrivkey,
      }),
      claimRevokedToLocal({
        outpoint: { txid: successSent.txid as Txid, vout: 0 }, valueSat: successTx.tx.outputs[0]!.valueSat,
        revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey, toSelfDelay: TO_SELF_DELAY, revocationPrivkey,
      }),
    ])
    t.equal(penalty.inputs.length, 3)
    const r = await broadcast(btc, penalty)
    t.ok(r.ok, `penalty tx accepted ${r.ok ? '' : r.detail}`)
    await btc.mine(1)
    if (r.ok) t.equal(await confirmations(btc, r.txid), 1, 'penalty tx confirmed')
    t.ok(penalty.outputs[0]!.valueSat > toLocal.valueSat + offered.valueSat, 'B took to_local, the HTLC and the second-stage output')
  })
}
