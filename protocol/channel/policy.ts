// Default LocalPolicy from protocol/limits.ts (a host overrides fields from its config).
import {
  DEFAULT_FUNDING_TIMEOUT_BLOCKS, DEFAULT_MAX_CLTV_EXPIRY_DELTA, DEFAULT_MAX_DUST_EXPOSURE_MSAT, DEFAULT_MAX_FEERATE_PER_KW,
  DEFAULT_MAX_MINIMUM_DEPTH,
  DEFAULT_MAX_TO_SELF_DELAY, DEFAULT_MIN_CLTV_EXPIRY_DELTA, DEFAULT_MIN_FUNDING_SATOSHIS, FEERATE_PER_KW_FLOOR,
} from '../limits.ts'
import type { Msat, Sat } from '../types.ts'
import type { LocalPolicy } from './state.ts'

export function defaultPolicy (overrides: Partial<LocalPolicy> = {}): LocalPolicy {
  return {
    maxDustExposureMsat: DEFAULT_MAX_DUST_EXPOSURE_MSAT as Msat,
    minFeeratePerKw: FEERATE_PER_KW_FLOOR,
    maxFeeratePerKw: DEFAULT_MAX_FEERATE_PER_KW,
    minCltvExpiryDelta: DEFAULT_MIN_CLTV_EXPIRY_DELTA,
    maxCltvExpiryDelta: DEFAULT_MAX_CLTV_EXPIRY_DELTA,
    maxToSelfDelay: DEFAULT_MAX_TO_SELF_DELAY,
    maxMinimumDepth: DEFAULT_MAX_MINIMUM_DEPTH,
    minFundingSat: DEFAULT_MIN_FUNDING_SATOSHIS as Sat,
    fundingTimeoutBlocks: DEFAULT_FUNDING_TIMEOUT_BLOCKS,
    zeroConfOwnFunding: false,
    ...overrides,
  }
}
