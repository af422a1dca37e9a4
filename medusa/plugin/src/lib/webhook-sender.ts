/**
 * One attempt to deliver an event as a Standard Webhooks request (https://www.standardwebhooks.com), and
 * whether another attempt is worth it; Medusa's workflow engine runs that next attempt (the delivery
 * workflow's step fails and the engine retries it after `retryIntervalMs`).
 *
 * - `webhook-id` is the same on every attempt for one event, so the receiver can recognise retries.
 * - Every attempt is signed again with a fresh `webhook-timestamp`: a retry after a long wait must still
 *   fall inside the receiver's timestamp tolerance (5 minutes). With several secrets (a rotation) every
 *   attempt carries one signature per secret, as the standard allows, so either side can switch first.
 * - Retried: network errors, per-attempt timeouts, 408, 429 and 5xx. Any other answer is final: 2xx is
 *   delivered; redirects and other 4xx are permanent failures that a retry cannot fix.
 */
import { Webhook } from "standardwebhooks"

export interface WebhookEvent {
  /** Stable identifier of this event: the same for every retry of it. */
  id: string
  /** The JSON body; serialised once so that every attempt sends the same bytes. */
  payload: Record<string, unknown>
}

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number
  /** With maxDelayMs: the backoff schedule (doubling from this, capped) whose span the retries keep. */
  baseDelayMs: number
  maxDelayMs: number
  /** Time allowed for one attempt (connect, send, answer) before it is aborted and retried. */
  timeoutMs: number
}

export interface SenderLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export interface SenderOptions {
  url: string
  /** `whsec_...` secrets shared with the receiver; one signature per secret. */
  secrets: string[]
  retry: RetryPolicy
  logger: SenderLogger
  /** Replaceable for tests. */
  fetchImpl?: typeof fetch
  now?: () => Date
}

export type DeliveryOutcome =
  | { result: "delivered"; status: number; attempts: number; body: string }
  | { result: "rejected"; status: number; attempts: number; body: string }
  | { result: "gave_up"; attempts: number; lastError: string }

/** What an attempt leaves to do: nothing more (a final outcome), or another attempt. */
export type AttemptOutcome = DeliveryOutcome | { result: "retry"; attempts: number; reason: string }

const RETRYABLE_STATUS = new Set([408, 429])
/** Answers are logged; a misbehaving receiver must not flood the shop's log. */
const MAX_LOGGED_BODY = 500

type AttemptResult = { kind: "done"; status: number; body: string } | { kind: "retry"; reason: string }

/** Makes attempt number `attempt` (1 for the first) of delivering `event`. */
export async function attemptDelivery(
  event: WebhookEvent,
  attempt: number,
  options: SenderOptions
): Promise<AttemptOutcome> {
  const { retry, logger } = options
  const signers = options.secrets.map((secret) => new Webhook(secret))
  const outcome = await attemptOnce(event.id, JSON.stringify(event.payload), signers, options)
  if (outcome.kind === "done") {
    return finish(event, outcome, attempt, logger)
  }
  if (attempt >= retry.maxAttempts) {
    logger.error(`webhook ${event.id}: gave up after ${attempt} attempts (${outcome.reason})`)
    return { result: "gave_up", attempts: attempt, lastError: outcome.reason }
  }
  logger.warn(
    `webhook ${event.id}: attempt ${attempt}/${retry.maxAttempts} failed (${outcome.reason}); ` +
      `retrying in ${retryIntervalMs(retry) / 1000} s`
  )
  return { result: "retry", attempts: attempt, reason: outcome.reason }
}

async function attemptOnce(
  msgId: string,
  body: string,
  signers: Webhook[],
  options: SenderOptions
): Promise<AttemptResult> {
  const timestamp = (options.now ?? (() => new Date()))()
  const headers = {
    "content-type": "application/json",
    "webhook-id": msgId,
    "webhook-timestamp": Math.floor(timestamp.getTime() / 1000).toString(),
    "webhook-signature": signers.map((signer) => signer.sign(msgId, timestamp, body)).join(" "),
  }
  const fetchImpl = options.fetchImpl ?? fetch
  try {
    const response = await fetchImpl(options.url, {
      method: "POST",
      headers,
      body,
      // A redirected POST may silently turn into a GET: treat a redirect as a misconfigured URL instead.
      redirect: "manual",
      signal: AbortSignal.timeout(options.retry.timeoutMs),
    })
    const text = (await response.text()).slice(0, MAX_LOGGED_BODY)
    if (response.status >= 500 || RETRYABLE_STATUS.has(response.status)) {
      return { kind: "retry", reason: `HTTP ${response.status}` }
    }
    return { kind: "done", status: response.status, body: text }
  } catch (error) {
    return { kind: "retry", reason: describeError(error, options.retry.timeoutMs) }
  }
}

function finish(
  event: WebhookEvent,
  outcome: { status: number; body: string },
  attempts: number,
  logger: SenderLogger
): DeliveryOutcome {
  if (outcome.status >= 200 && outcome.status < 300) {
    logger.info(`webhook ${event.id}: delivered (HTTP ${outcome.status}, attempt ${attempts}) ${outcome.body}`)
    return { result: "delivered", status: outcome.status, attempts, body: outcome.body }
  }
  logger.error(
    `webhook ${event.id}: permanently rejected with HTTP ${outcome.status}, not retried: ${outcome.body}`
  )
  return { result: "rejected", status: outcome.status, attempts, body: outcome.body }
}

/** Medusa's workflow engine waits at least this long between two attempts (its own retry interval). */
export const MIN_RETRY_INTERVAL_MS = 1_000

/**
 * The wait between two attempts. Medusa's workflow engine retries a step at one fixed interval
 * (`retryInterval`), so the doubling backoff that baseDelayMs and maxDelayMs describe is approximated by
 * its mean: `maxAttempts` attempts then span the same time as they would with that backoff (27 s apart,
 * about four minutes in all, with the defaults), and the receiver sees as many requests. Orders placed at
 * different times retry at different times, so no jitter is needed to keep them apart.
 */
export function retryIntervalMs(retry: Pick<RetryPolicy, "maxAttempts" | "baseDelayMs" | "maxDelayMs">): number {
  const retries = retry.maxAttempts - 1
  let span = 0
  for (let retried = 0; retried < retries; retried++) {
    span += Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retried)
  }
  return Math.max(MIN_RETRY_INTERVAL_MS, Math.round(span / Math.max(1, retries)))
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`
  }
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause
    const detail = cause?.code ?? cause?.message
    return detail ? `${error.message}: ${detail}` : error.message
  }
  return String(error)
}
