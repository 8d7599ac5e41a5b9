// A new channel from a seed, for the opener and the acceptor alike. The host draws the randomness
// (a 32-byte channel seed and, opening, a temporary channel id: host/random.ts) and hands it in; the
// rest follows from it: the channel's keys (protocol/keys/channel.ts), our side's parameters (our
// limits with the keys' basepoints), the signer, and the first step (open_channel or accept_channel).
// The host stores the seed with the channel: after a restart the keys and the signer come back from it.
import type { ChannelError } from '../errors.ts'
import { channelKeys, localSideParams, type ChannelKeys, type SideLimits } from '../keys/channel.ts'
import { err, ok, type Result } from '../result.ts'
import type { OpenChannel } from '../wire/index.ts'
import { bolt3Signer } from './bolt3-signer.ts'
import type { Step } from './effects.ts'
import { acceptChannel, openChannel, type AcceptParams, type OpenParams } from './open.ts'
import type { ChannelSigner } from './signer.ts'

/** A channel just created: its first step (the state and the open_channel or accept_channel to send),
 *  and the keys and signer its seed gives. */
export interface NewChannel { step: Step; keys: ChannelKeys; signer: ChannelSigner }

/** Our side of a new channel: its seed and the limits we impose on the peer. */
export interface FromSeed {
  /** 32 random bytes, drawn by the host for this channel alone. */
  seed: Uint8Array
  limits: SideLimits
}

function fromSeed (seed: Uint8Array): { keys: ChannelKeys; signer: ChannelSigner } {
  const keys = channelKeys(seed)
  return { keys, signer: bolt3Signer(keys.secrets) }
}

/** The opener: a new channel and its open_channel. */
export function openFromSeed (p: Omit<OpenParams, 'local'> & FromSeed): NewChannel {
  const { seed, limits, ...params } = p
  const { keys, signer } = fromSeed(seed)
  return { step: openChannel({ ...params, local: localSideParams(keys, limits) }, signer), keys, signer }
}

/** The acceptor: checks the peer's open_channel and answers accept_channel, or refuses it (the error
 *  says why; nothing was created). */
export function acceptFromSeed (p: Omit<AcceptParams, 'local'> & FromSeed, open: OpenChannel): Result<NewChannel, ChannelError> {
  const { seed, limits, ...params } = p
  const { keys, signer } = fromSeed(seed)
  const accepted = acceptChannel({ ...params, local: localSideParams(keys, limits) }, open, signer)
  return accepted.ok ? ok({ step: accepted.value, keys, signer }) : err(accepted.error)
}
