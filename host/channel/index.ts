// host/channel: the channel runner shared by the hub and the SDK.
//
//   const d = new ChannelDriver(state, signer, { persist, send, broadcastFunding, disconnect, emit, stopped })
//   await d.start(openFromSeed(params).step)        // a new channel (or acceptFromSeed(params, open_channel))
//   await d.restored()                              // a channel loaded from the store after a restart
//   await d.connected(); await d.peer(msg); await d.command({ type: 'add_htlc', ... })
export { ChannelDriver, type DriverPorts, type DriverOptions, type DriverOutcome, type PersistRequest, type StepFn, type Observer } from './driver.ts'
