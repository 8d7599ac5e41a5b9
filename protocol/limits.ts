// Every limit of the protocol in one place (DESIGN.md rule 6), each with its reason and source.
// Section 1 (wire): sizes of frames, strings and arrays, and BOLT constants that bound message fields.
// Section 2 (channel) is appended below by the channel state machine: its policy limits.

// ───────────────────────────── Section 1: wire ─────────────────────────────

/** Largest frame we read or write. DESIGN.md "Protocol decisions": one JSON message per WebSocket
 *  frame, at most 64 KiB. BOLT #1 caps a message at 65535 bytes for the same reason: a peer must not
 *  make us buffer or parse without bound. Checked before JSON.parse. */
export const MAX_FRAME_BYTES = 64 * 1024

/** Deepest nesting of arrays/objects in a frame. Our deepest message is tx_signatures
 *  (object → witnesses array → witness array → element), depth 3. A frame of 64 KiB of `[` would
 *  otherwise make a recursive parser or validator walk 65,536 levels; we refuse it by scanning first. */
export const MAX_JSON_DEPTH = 4

/** Most fields in one JSON object of a frame. Our largest message, open_channel, has 22. V8 parses an
 *  object of thousands of keys slowly (a 64 KiB frame of 7,000 keys costs milliseconds to parse and
 *  to refuse), so the pre-scan refuses more than this before JSON.parse. (Fewer extra fields reach
 *  the strict schema, which names the first unknown one.) */
export const MAX_JSON_OBJECT_KEYS = 32

/** Most items in one JSON array of a frame, refused by the pre-scan before JSON.parse allocates them.
 *  About twice the longest array of any message (htlc_signatures, MAX_HTLC_SIGNATURES): an array a
 *  little too long still reaches its schema, whose error names the field and its own limit. */
export const MAX_JSON_ARRAY_ITEMS = 1_024

/** BOLT #2 (open_channel receiver): "if `max_accepted_htlcs` is greater than 483: MUST fail the
 *  channel" — 483 HTLCs on each side keep a commitment transaction within the standard weight limit
 *  (BOLT #5). So commitment_signed carries at most 483 HTLC signatures. */
export const MAX_ACCEPTED_HTLCS_LIMIT = 483
export const MAX_HTLC_SIGNATURES = MAX_ACCEPTED_HTLCS_LIMIT

/** Lowest feerate we accept or propose. BOLT #2 (update_fee receiver): "if the `update_fee` is too low
 *  for timely processing [...]: MUST send a `warning` and close the connection, or send an `error` and
 *  fail the channel". 253 sat/kw is the lowest rate that is still ≥ 1 sat/vbyte (Bitcoin Core's default
 *  minimum relay fee) after weight is rounded up to vbytes; LND, CLN and LDK use the same floor, and the
 *  BOLT #3 test vectors' lowest feerate is 253. A commitment below it would not propagate. */
export const FEERATE_PER_KW_FLOOR = 253

/** BOLT #2 (open_channel receiver): "if `dust_limit_satoshis` is smaller than 354 satoshis (see
 *  BOLT #3): MUST fail the channel" — 354 sat is the dust threshold of a P2WSH output, the largest
 *  standard output type, so no standard output is made un-relayable by our dust limit. */
export const MIN_DUST_LIMIT_SATOSHIS = 354

/** BOLT #2 (open_channel): without `option_support_large_channel` "`funding_satoshis` MUST be less
 *  than 2^24 satoshi". We do not negotiate large channels yet. */
export const MAX_FUNDING_SATOSHIS = 2 ** 24 - 1

/** BOLT #2 (update_add_htlc receiver): "if sending node sets `cltv_expiry` to greater or equal to
 *  500000000: SHOULD send a `warning` and close the connection" — nLockTime at or above 500,000,000 is
 *  a Unix time, not a height. */
export const CLTV_EXPIRY_LIMIT = 500_000_000

/** BOLT #2 (shutdown): the longest allowed `scriptpubkey` is a segwit v1–16 program
 *  (`option_shutdown_anysegwit`): OP_1..OP_16 then a push of 2–40 bytes, 42 bytes in all. */
export const MAX_SHUTDOWN_SCRIPT_BYTES = 42

/** BOLT #2 (interactive tx, receiver): "there are more than 252 inputs" / "more than 252 outputs":
 *  MUST fail the negotiation. Bounds tx_signatures witnesses too (one per input we add). */
export const MAX_INTERACTIVE_INPUTS_OUTPUTS = 252

/** BOLT #2 (start_batch receiver): "If `batch_size` is strictly greater than 20: MUST send a
 *  `warning` and close the connection, or send an `error` and fail the channel." */
export const MAX_COMMITMENT_BATCH_SIZE = 20

/** Largest previous transaction in tx_add_input. BOLT #2 sends it whole (`prevtx`) so the receiver can
 *  check the output is segwit; ours must fit one 64 KiB frame as hex with room for the other fields. */
export const MAX_PREVTX_BYTES = 32_000

/** Largest output script in tx_add_output. 10,000 bytes is the consensus script size limit. */
export const MAX_TX_OUTPUT_SCRIPT_BYTES = 10_000

/** Stack items in one input's witness and the size of one item, for tx_signatures. Consensus allows
 *  more; funding and wallet inputs (P2WPKH, P2TR key or simple script path, 2-of-2 P2WSH) need at
 *  most 4 items, and 3,600 bytes is the standard witness-script size limit. 16 items keeps a
 *  tx_signatures at ≤ 252 × 16 elements to validate. */
export const MAX_WITNESS_ITEMS = 16
export const MAX_WITNESS_ITEM_BYTES = 3_600

/** BOLT #1 (ping/pong): a pong carries `num_pong_bytes` of padding. We cap it so the pong still fits
 *  one frame as hex (2 × 16,384 + overhead < 64 KiB). Ping padding is capped the same way. */
export const MAX_PONG_BYTES = 16_384
export const MAX_PING_IGNORED_BYTES = 16_384

/** Free text in `error`/`warning` (BOLT #1 `data`) and in update_fail_htlc's `detail`: enough for a
 *  sentence; more is a peer filling our logs. */
export const MAX_ERROR_TEXT_CHARS = 1_024
export const MAX_FAIL_DETAIL_CHARS = 256

/** update_add_htlc metadata forwarded to the payee (DESIGN.md "Payment metadata"): a platform
 *  reference and a BOLT #11 invoice. 2,048 characters holds any invoice we issue (BOLT #11 bech32 has
 *  no length limit; the hub's invoices carry no routing hints). */
export const MAX_REFERENCE_CHARS = 128
export const MAX_INVOICE_CHARS = 2_048

// ───────────────────────────── Section 2: channel ─────────────────────────────
// Policy limits of the channel state machine (protocol/channel). Defaults for LocalPolicy; a host
// may pass stricter values from its config.

/** BOLT #2 "Bounding exposure to trimmed in-flight HTLCs": `max_dust_htlc_exposure_msat` "is a matter
 *  of node policy". Trimmed HTLCs become miner fees on a force close; 5,000,000 msat (5,000 sat) is
 *  LDK's and CLN's order of magnitude, and far above what a micro-payout stream keeps in flight. */
export const DEFAULT_MAX_DUST_EXPOSURE_MSAT = 5_000_000

/** BOLT #2 (update_fee receiver): "if the `update_fee` is too low for timely processing, OR is
 *  unreasonably large: MUST ... fail". The floor is FEERATE_PER_KW_FLOOR (Section 1, min relay fee);
 *  the ceiling is 100× a busy-mempool rate (≈ 2,500 sat/kw): above it a buggy or hostile funder
 *  would burn the channel in fees. */
export const DEFAULT_MAX_FEERATE_PER_KW = 250_000

/** An incoming HTLC must leave us at least this many blocks to act on-chain before it expires
 *  (BOLT #2 "`cltv_expiry_delta` Selection": the recommended minimum final delta is 18). */
export const DEFAULT_MIN_CLTV_EXPIRY_DELTA = 18

/** An incoming HTLC expiring further out than this locks our liquidity for too long (LND and LDK
 *  refuse expiries more than 2,016 blocks, two weeks, in the future). */
export const DEFAULT_MAX_CLTV_EXPIRY_DELTA = 2_016

/** BOLT #2 (open_channel receiver): "`to_self_delay` is unreasonably large" — 2,016 blocks (two weeks)
 *  is the ceiling LND and LDK use; longer locks a force-closed balance for too long. */
export const DEFAULT_MAX_TO_SELF_DELAY = 2_016

/** BOLT #2 (accept_channel receiver): "if `minimum_depth` is unreasonably large: MAY fail the
 *  channel" — a day of blocks. */
export const DEFAULT_MAX_MINIMUM_DEPTH = 144

/** BOLT #2 (open_channel receiver): "MAY fail the channel if ... `funding_satoshis` is too small":
 *  below this, fees and reserves leave nothing to pay with. */
export const DEFAULT_MIN_FUNDING_SATOSHIS = 20_000

/** BOLT #2 "`cltv_expiry_delta` Selection": an offering node "MUST estimate a timeout deadline for each
 *  HTLC it offers" and fail the channel once an offered HTLC is past it. We allow 3 blocks after
 *  `cltv_expiry` for the peer to fail it off-chain (LDK's LATENCY_GRACE_PERIOD_BLOCKS). */
export const OFFERED_HTLC_GRACE_BLOCKS = 3

/** BOLT #2: a fulfilling node "MUST estimate a fulfillment deadline" — the last height at which it can
 *  still claim the HTLC on-chain with the preimage before the offerer can time it out. 12 blocks before
 *  `cltv_expiry` leaves time for a commitment and an HTLC-success tx to confirm; it is below
 *  DEFAULT_MIN_CLTV_EXPIRY_DELTA so a freshly accepted HTLC is never already past it. */
export const FULFILL_DEADLINE_BLOCKS = 12

/** Records per page of the SDK's listInvoices / listPayments: each is read from the store and held
 *  in memory at once, so a page stays small; 1,000 is a few hundred KiB of records. */
export const MAX_LIST_PAGE = 1_000

/** BOLT #2 (funding_created, fundee): "SHOULD forget the channel if it does not see the correct
 *  funding transaction after a timeout of 2016 blocks." The longest a fundee may wait: the ceiling of
 *  the hub's setting. */
export const MAX_FUNDING_TIMEOUT_BLOCKS = 2_016

/** Blocks a fundee waits, from funding_created, for the funding to confirm before it abandons the
 *  channel (protocol/channel/funding-check.ts). One day, not the BOLT's two weeks: an unconfirmed
 *  channel holds one of the per-peer and overall slots below (MAX_UNCONFIRMED_CHANNELS_*), and a
 *  funder whose transaction pays a fee our node relays confirms in hours, not days. Nothing of the
 *  fundee's is at stake in such a channel, and a funder whose transaction confirms after we forgot
 *  it gets its coins back by closing alone: it holds our signature on its first commitment
 *  (funding_signed). */
export const DEFAULT_FUNDING_TIMEOUT_BLOCKS = 144

// ───────────────────────────── Section 3: hub ─────────────────────────────
// Defaults of the hub's own policy (hub/config.ts, where each has its bounds).

/** Channels one peer may have opened to the hub whose funding is not confirmed yet, counted from
 *  open_channel until the channel is ready (or abandoned). Each costs a stored record, a chain monitor
 *  and a node lookup per block while it waits, and the peer nothing: a platform opens one channel at a
 *  time, two leave room for a retry. */
export const DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER = 2

/** The same over all peers: node ids are free, so only an overall cap bounds what unconfirmed
 *  channels cost the hub (records, monitors, lookups per block). While it is full, new peers' opens are
 *  refused (established channels and payments are unaffected) until slots free up: a channel confirms,
 *  or is abandoned at its deadline (DEFAULT_FUNDING_TIMEOUT_BLOCKS). */
export const DEFAULT_MAX_UNCONFIRMED_CHANNELS = 100

/** The latest expiry the hub gives a forwarded HTLC, in blocks above the current height (it also stays
 *  `cltvExpiryDelta` below the incoming one). A payee holds an HTLC at most until then: past it (and
 *  OFFERED_HTLC_GRACE_BLOCKS) the hub fails the channel and times the HTLC out on-chain, then fails the
 *  payment upstream. An honest payee settles at once (the SDK fulfils or fails on receipt); one day
 *  bounds how long a payee that holds can lock the hub's liquidity and the payer's payment, where the
 *  payer's own expiry could reach DEFAULT_MAX_CLTV_EXPIRY_DELTA (two weeks). */
export const DEFAULT_MAX_PAYEE_HOLD_BLOCKS = 144

/** How long the hub, as the funder, waits for the peer's funding_signed once it has built the funding
 *  transaction and sent funding_created (ms). The transaction's inputs are set aside meanwhile (it may
 *  still be broadcast), and a coin set aside is set aside whole, however small the channel: a payee that
 *  accepted the hub's channel and never signs, and stays connected, would hold them for as long as it
 *  likes, at no cost, keeping every other payee from getting a channel. An honest client answers in one
 *  round trip and one write of its own; a minute covers a slow one. Past it the channel is forgotten
 *  (nothing of it is stored or broadcast yet) and the coins are free again. */
export const DEFAULT_FUNDING_SIGNED_TIMEOUT_MS = 60_000

/** Hub-funded channels (request_channel, or a payment to a payee without one) that are unconfirmed or
 *  idle (no payment ever made in them) lock the hub's coins at no cost to whoever asked. Without a
 *  setting, one identity may hold one such channel of the configured size, and all identities together
 *  this many. */
export const DEFAULT_IDLE_HUB_FUNDED_CHANNELS = 50
