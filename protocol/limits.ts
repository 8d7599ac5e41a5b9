// Every limit of the protocol in one place (DESIGN.md rule 6), each with its reason and source.
// Section 1 (wire): sizes of frames, strings and arrays, and BOLT constants that bound message fields.
// Section 2 (channel): policy limits of the channel state machine and its chain monitor.
// Section 3 (hub): defaults of the hub's own policy.

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

/** Consensus MAX_MONEY: every satoshi there will ever be (21 million BTC). No amount, budget or
 *  balance can be larger. */
export const MAX_MONEY_SAT = 2_100_000_000_000_000

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

/** BOLT #2 (tx_add_input / tx_add_output receiver): "if has received 4096 `tx_add_input` messages
 *  during this negotiation" (likewise outputs): MUST fail the negotiation. Bounds the work a peer can
 *  make us do by adding and removing the same input over and over. */
export const MAX_INTERACTIVE_TX_ADDS = 4_096

/** BOLT #2 (tx_complete receiver): "the estimated weight of the tx is greater than 400,000
 *  (`MAX_STANDARD_TX_WEIGHT`)": Bitcoin Core relays no heavier transaction. */
export const MAX_STANDARD_TX_WEIGHT = 400_000

/** BOLT #2 (tx_add_input sender): "MUST set `sequence` to be less than or equal to 4294967293
 *  (`0xFFFFFFFD`)": the input signals replaceability (BIP 125), so the transaction can be RBF-ed. */
export const MAX_INTERACTIVE_INPUT_SEQUENCE = 0xffff_fffd

/** BOLT #2 (tx_init_rbf sender): "MUST set `feerate` greater than or equal to 25/24 times the `feerate`
 *  of the previously constructed transaction, rounded down": each replacement makes progress. */
export const RBF_FEERATE_NUMERATOR = 25
export const RBF_FEERATE_DENOMINATOR = 24

/** BIP 125 (rule 4): "The replacement transaction must also pay for its own bandwidth at or above the
 *  rate set by the node's minimum relay fee setting": 1 sat/vB, Bitcoin Core's and btcd's default
 *  (1000 sat/kB), is 250 sat per 1000 weight units. Our fees are rounded down and the node rounds the
 *  vbytes up, which costs up to 2 sat (btcd refused a batch replacement at exactly +250 sat/kw: "needs
 *  1988, has 1987"); 10 sat/kw more covers that for any transaction of 175 weight units or more. A
 *  replacement of a batch raises its feerate by at least this much, else a node refuses it at a low
 *  feerate where 25/24 adds less. */
export const RBF_MIN_FEERATE_INCREMENT_PER_KW = 260

/** BOLT #2 (start_batch receiver): "If `batch_size` is strictly greater than 20: MUST send a
 *  `warning` and close the connection, or send an `error` and fail the channel." */
export const MAX_COMMITMENT_BATCH_SIZE = 20

/** Splice candidates dropped as double-spent that a channel's state remembers (SpliceState.dropped),
 *  newest kept: each is read at the next start to write an accounting reversal a stop kept from being
 *  written (client-sdk/chain-moves.ts, hub/accounting/chain-moves.ts). One drop can take every
 *  candidate of a splice at once, and those are at most a commitment batch's fundings. */
export const DROPPED_SPLICES_KEPT = MAX_COMMITMENT_BATCH_SIZE

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

/** How much of a text we did not write (an exception's message, a node's reject reason) an error
 *  detail or a log event quotes: enough to recognise the cause, bounded because its author is not us. */
export const MAX_QUOTED_CHARS = 200

/** Longest BOLT #11 invoice we read or write. BOLT #11 lifts bech32's 90-character limit, and each
 *  tagged field holds up to 1,023 five-bit words (639 bytes): an invoice with a full description (`d`)
 *  and full payment metadata (`m`) is 2,386 characters, one that adds a 12-hop route hint (`r`) and a
 *  fallback address 3,425, and nothing limits the number of route hints. 16,384 holds all of these with
 *  room to spare, keeps an invoice inside one frame (MAX_FRAME_BYTES), and bounds the work an untrusted
 *  string can cause before its checksum is known. */
export const MAX_INVOICE_CHARS = 16_384

/** update_add_htlc metadata forwarded to the payee (DESIGN.md "Payment metadata"): a platform
 *  reference, and a copy of the invoice being paid (a push payment carries its sealed secret instead,
 *  105 bytes: protocol/push/secret.ts). The metadata is kept with its HTLC in the channel
 *  state and its monitor updates, in both commitments, for up to MAX_ACCEPTED_HTLCS_LIMIT HTLCs a side,
 *  so its copy of the invoice is bounded far below MAX_INVOICE_CHARS (2,048 × 483 ≈ 1 MB of state at
 *  most). Every invoice the SDK issues fits (a 639-byte description, no route hints or `m`: at most
 *  1,304 characters); a longer one is paid without the copy, and the payee finds its invoice by payment
 *  hash. */
export const MAX_REFERENCE_CHARS = 128
export const MAX_FORWARDED_INVOICE_CHARS = 2_048

/** Recipients of one split payment (paySplit, DESIGN.md "Splits"): one HTLC per leg on the payer's
 *  channel and on each recipient's, all in flight at once until the release, and one leg_locked,
 *  release and abort message per leg. 16 legs keep a split to a sixth of the 100 HTLCs the SDK's
 *  channel accepts in flight (client-sdk/channels.ts), so a platform can run several splits while
 *  paying on; a revenue share with more parties than that is a payroll, paid as separate payments. */
export const MAX_SPLIT_RECIPIENTS = 16
/** Characters of an idempotency key (the HTLC metadata's idempotency_key, what the hub keeps per
 *  payer): a UUID or a ULID with a prefix. A split's legs take `<key>:<index>`, so a split's own key
 *  has room for ':' and the index's digits (client-sdk/split-options.ts). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 64

/** ppm shares of a split are parts of this whole (parts per million, as BOLT #7's fee_proportional_millionths). */
export const SPLIT_PPM_WHOLE = 1_000_000

/** How long a split recipient waits for the payer's release or abort past the split's release_by
 *  time before it fails its leg on its own (seconds; client-sdk/split-receive.ts). The payer never
 *  releases after release_by (protocol/split/payer.ts), so a release later than this was held back on
 *  the way: the leg can no longer be released by an honest payer, and failing it frees the HTLC slot
 *  before its expiry would make the hub close the channel. A minute covers a relay through a loaded
 *  hub and a reconnect. */
export const SPLIT_RELEASE_GRACE_SECONDS = 60

/** How often a split recipient says again that its leg is locked while it waits for the release or
 *  the abort (ms; client-sdk/split-receive.ts). The hub relays a leg locked only to a payer that is
 *  connected, and the payer answers a repeated one with what it decided: so a leg locked, a release
 *  or an abort lost while the payer or the recipient was reconnecting is made good within this. A few
 *  seconds against a lock timeout of tens of seconds; one small message per locked leg. */
export const SPLIT_LOCKED_RESEND_MS = 3_000

/** The longest a payer waits for every leg of a split to be locked before it aborts (ms; paySplit's
 *  lockTimeoutMs is at most this). A split's legs hold an HTLC slot on every channel involved until it
 *  is released or aborted; an hour covers a recipient the hub holds the leg for while it reconnects. */
export const MAX_SPLIT_LOCK_TIMEOUT_MS = 3_600_000

// ───────────────────────────── Section 2: channel ─────────────────────────────
// Policy limits of the channel state machine (protocol/channel) and its chain monitor
// (protocol/monitor). Defaults for LocalPolicy and MonitorConfig; a host may pass stricter values from
// its config.

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

/** Confirmations before an on-chain event counts (DESIGN.md "The chain": finality is explicit): a chain
 *  monitor's decision goes outward only at this depth (an HTLC timed out on-chain fails its payment, a
 *  channel is reported closed), and a block or transaction this deep is final for chain-wipe detection.
 *  Claims themselves go out at one confirmation. Below 6, a common reorg can undo what we acted on:
 *  a payer that reported a payment failed could see the HTLC claimed with its preimage after the
 *  reorg, and the hub would have failed upstream a payment it then pays downstream. Hub and SDK use
 *  the same depth; the hub's operator may choose another (hub/config.ts channels.finalityDepth). */
export const DEFAULT_FINALITY_DEPTH = 6

/** Blocks a push payment's expiry lies beyond what forwarding needs (the SDK's pay({ to }) `holdBlocks`):
 *  how long the hub may hold it for a payee that is offline, at most (hub/router/holds.ts ends a hold
 *  once the expiry leaves the payee no window). A day by default: a creator away for the night is
 *  still paid; the payer's amount is locked at most that long if the hub disappears. */
export const DEFAULT_PUSH_HOLD_BLOCKS = 144
/** At most a week: with the hub's delta and the payee's window the expiry stays below
 *  DEFAULT_MAX_CLTV_EXPIRY_DELTA, the furthest the hub accepts. */
export const MAX_PUSH_HOLD_BLOCKS = 1_008

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

/** BOLT #2 "Channel Quiescence": "MUST disconnect after 60 seconds of quiescence if the HTLCs are
 *  pending." A quiescent channel adds no HTLC and cannot fail or fulfil one off-chain, so a peer that
 *  never finishes what it asked quiescence for would let HTLCs run into their deadlines. The host arms
 *  a timer of this length when the machine reports quiescence (event `quiescence_started`) and steps
 *  the `quiescence_timeout` command when it fires. */
export const QUIESCENCE_TIMEOUT_SECONDS = 60

/** Confirmations of a splice transaction before we send splice_locked (BOLT #2 "Splice Completion":
 *  "If any splice transaction reaches acceptable depth" — acceptable is policy). splice_locked cannot
 *  be taken back: afterwards neither side signs for the old funding, so a reorg deeper than this that
 *  drops the splice leaves the channel with no signed commitment on the output that is unspent again.
 *  Six is this hub's finality depth (hub/config.ts `finalityDepth`); Eclair defaults to 8 ("large
 *  enough to protect against malicious reorgs"); a single confirmation is undone by a routine
 *  one-block reorg. */
export const DEFAULT_SPLICE_MINIMUM_DEPTH = 6
/** The least a host may configure: one block is reorganised out routinely. */
export const MIN_SPLICE_MINIMUM_DEPTH = 2

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

/** The longest the hub holds a payment for a payee that is offline (or whose channel is still opening)
 *  before it fails back with `recipient_offline`; the payment's own expiry may end the hold sooner
 *  (hub/router/router.ts). A held payment keeps one of the payer's HTLC slots and its amount locked, at
 *  no cost to the payee: an hour covers a creator whose process restarts or whose laptop sleeps for a
 *  while, and a payer that wants longer sets a later expiry and the operator a longer hold. */
export const DEFAULT_HOLD_MS = 3_600_000
/** The longest hold an operator may configure: a week. A hold is a timer of the hub process as well as
 *  a record, and Node's timers reach only 24.8 days. */
export const MAX_HOLD_MS = 604_800_000

/** Payments the hub holds for one offline payee at once. When the payee returns they are all offered on
 *  its channel together, and the SDK's side of a channel accepts 100 HTLCs in flight
 *  (client-sdk/channels.ts): half leaves room for the payments that arrive meanwhile. More would fail
 *  back for want of slots after waiting; a payer is better told at once. */
export const DEFAULT_MAX_HELD_PER_PAYEE = 50

/** Days the hub remembers a payer's idempotency key after its payment ended (hub/router/payer-keys.ts):
 *  the window in which the same order paid again from a second SDK data directory (a restore from a
 *  backup, a second server) is refused. A month covers a restore from a backup that old; a record is a
 *  few hundred bytes, so a million payments a month keep a few hundred MB. */
export const DEFAULT_IDEMPOTENCY_DAYS = 30

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

/** The most one regtest faucet request pays (10 BTC; hub/admin/faucet.ts). Enough to fund the
 *  largest channel (MAX_FUNDING_SATOSHIS, about 0.17 BTC) many times over; a larger figure is more
 *  likely a unit mistake (BTC for sat) than a need, and it bounds the coins one request mines. */
export const MAX_FAUCET_SAT = 1_000_000_000

/** The most blocks one regtest faucet request mines to fund itself: coinbases for the amount plus the
 *  99 that make the first of them spendable. Early on one coinbase pays 50 BTC; the regtest subsidy
 *  halves every 150 blocks, and past a few thousand blocks the amount would need more blocks than
 *  this, which the faucet refuses (ask for less) rather than mine without end. */
export const MAX_FAUCET_BLOCKS = 1_000

// ───────────────────────────── Audit anchoring and receipts ─────────────────────────────

/** Longest Merkle path in a receipt's inclusion proof: an anchor covers fewer than 2^53 entries (they
 *  are numbered by safe integers), and RFC 6962's tree of n leaves has paths of at most ⌈log2 n⌉. */
export const MAX_MERKLE_PATH = 53

/** Receipts the hub signs and sends in one turn of its event loop (one Schnorr signature each); the
 *  rest wait for the next turn, so a burst of settlements does not hold up the messages behind it. */
export const RECEIPTS_SIGNED_PER_TURN = 64

/** Most entries one anchor covers, so building its Merkle tree (and a proof in it) stays bounded in
 *  memory and time: at 32 bytes a leaf, a million entries are 32 MB of hashes. Entries beyond it wait
 *  for the next anchor. */
export const MAX_ANCHOR_ENTRIES = 1_000_000

/** Most audit entries one export request answers (GET /audit/export): the answer is built in memory. An
 *  operator exports a longer log in ranges (from, to). */
export const MAX_AUDIT_EXPORT_ENTRIES = 1_000_000
// ───────────────────────────── Section: streams ─────────────────────────────
// A stream (protocol/stream, client-sdk/stream.ts; DESIGN.md "Streams") aggregates line items into one
// push payment (one HTLC) per tick, whose reference commits to the Merkle root of its items.

/** A line item's id and memo: printable ASCII without `"` or `\`, so an item's JSON is its characters
 *  (no escaping) and a leaf encodes each length in one byte. 64 holds a UUID, a ULID or an order
 *  number with room to spare. */
export const MAX_STREAM_ITEM_ID_CHARS = 64
export const MAX_STREAM_ITEM_MEMO_CHARS = 64
/** One item pays at most what one tick may carry. */
export const MAX_STREAM_ITEM_MSAT = 10_000_000

/** Items in one tick: 2^14, so a proof has at most 14 hashes. Enough that a handful of ticks in
 *  flight carry hundreds of thousands of items a second at a tick's round trip (~50-100 ms), few enough
 *  that the payee's wait for a tick's items and its one batch of id marks stay small. */
export const MAX_STREAM_TICK_ITEMS = 16_384
/** Value of one tick (its HTLC): 10,000 sat. A tick is one HTLC, so this is what a failure or a
 *  force close puts at stake per tick; with MAX_STREAM_TICKS_IN_FLIGHT it bounds a stream's exposure. */
export const MAX_STREAM_TICK_MSAT = 10_000_000
/** Ticks of one stream in flight at once (HTLC slots it uses): a handful, far below BOLT #2's 483
 *  `max_accepted_htlcs`, so streams never crowd out other payments. */
export const MAX_STREAM_TICKS_IN_FLIGHT = 4
/** Items in one `stream_items` message (packed in one string, protocol/stream/item.ts): what the
 *  payee splits and checks per message. Half a tick, so a tick takes at least two messages' worth of
 *  work per frame; the sender fills a chunk up to STREAM_CHUNK_TARGET_BYTES and this many items,
 *  whichever comes first (at 20 bytes an item, about 2,400). */
export const MAX_STREAM_CHUNK_ITEMS = 8_192
/** The packed items of one `stream_items` message, at most: room in a frame for the other fields. */
export const MAX_STREAM_CHUNK_CHARS = 60 * 1024
export const STREAM_CHUNK_TARGET_BYTES = 48 * 1024
/** Ticks whose items a payee buffers per payer before their HTLC arrives (what a payer may make it
 *  hold in memory): the ticks in flight, twice over for a resend after a reconnect. */
export const MAX_STREAM_BUFFERED_TICKS = 2 * MAX_STREAM_TICKS_IN_FLIGHT
/** Tries of one tick (a new payment hash each) before its items are reported failed: a payee that
 *  refuses it this often (an item id it says it was paid already) will not take it. */
export const STREAM_MAX_TICK_ATTEMPTS = 5
/** Items a payer's stream queues before they go into a tick: the ticks in flight, full. push() waits
 *  for room beyond it, so a stream to a payee that is away holds a bounded amount in memory. */
export const MAX_STREAM_QUEUED_ITEMS = MAX_STREAM_TICKS_IN_FLIGHT * MAX_STREAM_TICK_ITEMS
/** How long a payee waits for a tick's items once its HTLC is committed: the payer sends them with
 *  the HTLC, and again after STREAM_RESEND_MS and at most every STREAM_RESEND_MAX_MS; after this the
 *  tick is refused (the payer tries again). */
export const STREAM_ITEMS_WAIT_MS = 15_000
export const STREAM_RESEND_MS = 2_000
/** A tick without an outcome has its items sent again after STREAM_RESEND_MS, then after twice the
 *  last wait, up to this: a slow round trip (a loaded payee or hub) costs a few resends of a whole
 *  tick, not one every STREAM_RESEND_MS, and a payee that waits STREAM_ITEMS_WAIT_MS for a tick's items
 *  still sees a resend within its wait. */
export const STREAM_RESEND_MAX_MS = 8_000

// ── Node-key rotation (DESIGN.md "Node-key rotation") ──

/** Blocks a rotated-out node key is still served beside the new one unless the operator says otherwise:
 *  1,008 (a week of 10-minute blocks). A client offline for less than that learns the rotation from
 *  the old key when it comes back; one offline longer needs the new hub id out of band. */
export const DEFAULT_NODE_KEY_GRACE_BLOCKS = 1_008
/** The shortest grace: one block, so the old key is served at least until the next block (tests use
 *  a few; an operator who wants the old key gone at once has no client to carry across). */
export const MIN_NODE_KEY_GRACE_BLOCKS = 1
/** The longest grace: 52,560 blocks (a year). Every block of grace is a block in which a thief who
 *  took the old key could still pass for the hub to a client that has not switched. */
export const MAX_NODE_KEY_GRACE_BLOCKS = 52_560
/** Hub keys a client remembers (to verify receipts signed before a rotation). Each needs a rotation
 *  the hub signed, at most one per grace period; past this many the oldest is forgotten. */
export const MAX_REMEMBERED_HUB_KEYS = 64
