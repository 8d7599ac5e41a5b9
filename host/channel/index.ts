// host/channel: the channel runner shared by the hub and the SDK, the stored form of a channel and
// the batch that writes it.
//
//   const writer = new ChannelWriter(peer, seed, { write, carry, crashPoint, persisted }, { stored: false })
//   const d = new ChannelDriver(state, signer, { persist: req => writer.persist(req), send, broadcastFunding, disconnect, emit, stopped })
//   await d.start(openFromSeed(params).step)        // a new channel (or acceptFromSeed(params, open_channel))
//   await d.restored()                              // a channel loaded from the store after a restart (loadStoredChannels)
//   await d.connected(); await d.peer(msg); await d.command({ type: 'add_htlc', ... })
//   const splicing = new Splicing({ chain, wallet, localNodeId, remoteNodeId, respond, progress, log })
//   // driver ports: emit → splicing.event(ch, ev); broadcastSplice → splicing.broadcast(ch, txid, tx);
//   // every block → splicing.onBlock(channels); after a restart → splicing.resume(channels)
export {
  ChannelDriver, type DriverPorts, type DriverOptions, type DriverOutcome, type PersistRequest, type StepFn, type Observer,
} from './driver.ts'
export { ChannelWriter, type ChannelWriteHost, type Carried } from './persist.ts'
export { broadcastClose, pendingClose } from './closing.ts'
export {
  Splicing, refusalText, type Replacement, type SpliceAnswer, type SpliceChannel, type SpliceProgress, type SpliceRefusal,
  type SpliceRequest,
  type SplicingOptions, type SpliceWallet,
} from './splicing.ts'
export type { SpliceWish, PlannedContribution } from './splice-contribution.ts'
export {
  abandonedChannelOps, channelIndexKey, channelIndexOp, channelStateKey, claimChannelOp, loadChannelIndex, loadChannelRecord,
  loadChannelRecords, loadPreimage, loadPreimages, loadStoredChannels, monitorKey, preimageKey, preimageOps,
  type ChannelIndexEntry, type ChannelRecord,
} from './record.ts'
