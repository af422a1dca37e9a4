/**
 * One attempt to deliver an event as a Standard Webhooks request (https://www.standardwebhooks.com), and
 * the decision whether and when to try again; the caller (a workflow step) waits and runs the next attempt.
 *
 * - `webhook-id` is the same on every attempt for one event, so the receiver can recognise retries.
 * - Every attempt is signed again with a fresh `webhook-timestamp`: a retry after a long backoff must still
 *   fall inside the receiver's timestamp tolerance (5 minutes). With several secrets (a rotation) every
 *   attempt carries one signature per secret, as the standard allows, so either side can switch first.
 * - Retried: network errors, per-attempt timeouts, 408, 429 and 5xx (a `Retry-After` header is honoured).
 *   Any other answer is final: 2xx is delivered; redirects and other 4xx are permanent failures that a
 *   retry cannot fix.
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
  /** Delay before the second attempt; doubled for each further attempt. */
  baseDelayMs: number
  /** Upper bound for the computed backoff and for a server's Retry-After. */
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
  random?: () => number
}

export type DeliveryOutcome =
  | { result: "delivered"; status: number; attempts: number; body: string }
  | { result: "rejected"; status: number; attempts: number; body: string }
  | { result: "gave_up"; attempts: number; lastError: string }

/** What an attempt leaves to do: nothing more (a final outcome), or another attempt after `delayMs`. */
export type AttemptOutcome = DeliveryOutcome | { result: "retry"; attempts: number; delayMs: number; reason: string }

const RETRYABLE_STATUS = new Set([408, 429])
/** Answers are logged; a misbehaving receiver must not flood the shop's log. */
const MAX_LOGGED_BODY = 500

type AttemptResult =
  | { kind: "done"; status: number; body: string }
  | { kind: "retry"; reason: string; retryAfterMs?: number }

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
  const delayMs = nextDelayMs(attempt, retry, outcome.retryAfterMs, options.random ?? Math.random)
  logger.warn(
    `webhook ${event.id}: attempt ${attempt}/${retry.maxAttempts} failed (${outcome.reason}); ` +
      `retrying in ${delayMs} ms`
  )
  return { result: "retry", attempts: attempt, delayMs, reason: outcome.reason }
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
      return {
        kind: "retry",
        reason: `HTTP ${response.status}`,
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), timestamp),
      }
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

/**
 * Exponential backoff with "equal jitter" (half fixed, half random) so that many shops retrying after the
 * same outage do not arrive in lockstep. A server's Retry-After wins when it asks for longer.
 */
export function nextDelayMs(
  failedAttempt: number,
  retry: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number
): number {
  const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (failedAttempt - 1))
  const backoff = Math.round(exponential / 2 + (random() * exponential) / 2)
  if (retryAfterMs === undefined) {
    return backoff
  }
  return Math.min(retry.maxDelayMs, Math.max(backoff, retryAfterMs))
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110, section 10.2.3). */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) {
    return undefined
  }
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000
  }
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) {
    return undefined
  }
  return Math.max(0, date - now.getTime())
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
