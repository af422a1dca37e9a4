/**
 * The check behind the plugin's routes outside /admin (docs/contracts.md, "Plugin routes the cloud side
 * calls"), without Medusa: a Standard Webhooks signature over the raw body, made with one of the route's
 * caller's secrets, then a body that names the route's action and order.
 *
 * The signature covers the body only, not the path: a body therefore names what it is for, and one signed
 * for another route or order is refused, so a captured request replayed elsewhere does nothing.
 */
import type { z } from "@medusajs/framework/zod"
import { Webhook, WebhookVerificationError } from "standardwebhooks"

export type HeaderValue = string | string[] | undefined
export type SignatureCheck = { ok: true } | { ok: false; problem: string }

const SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const

/**
 * Whether `rawBody` carries a valid signature by one of `secrets` (several during a rotation), within
 * the standard's 5-minute tolerance. No secrets configured: nobody is accepted.
 */
export function verifySignature(
  rawBody: Buffer | string | undefined,
  headers: Record<string, HeaderValue>,
  secrets: readonly string[]
): SignatureCheck {
  if (secrets.length === 0) {
    return { ok: false, problem: "the route has no secret configured" }
  }
  const signed: Record<string, string> = {}
  for (const name of SIGNATURE_HEADERS) {
    const value = headers[name]
    if (typeof value !== "string" || value === "") {
      return { ok: false, problem: `header ${name} is missing or repeated` }
    }
    signed[name] = value
  }
  // A body Medusa's parsers did not read (no body, or a type they do not parse) cannot be verified.
  if (rawBody === undefined) {
    return { ok: false, problem: "no body Medusa kept to verify" }
  }
  let problem = "no signature matches"
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(rawBody, signed, { jsonParse: false })
      return { ok: true }
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error
      // The timestamp problem is the same for every secret; "no matching signature" is the usual one.
      problem = error.message
    }
  }
  return { ok: false, problem }
}

export type BodyCheck<T> = { ok: true; body: T } | { ok: false; message: string }

/** The body against the route's schema, and its `order_id` against the path's order id. */
export function checkRouteBody<T extends { order_id: string }>(
  schema: z.ZodType<T>,
  body: unknown,
  pathOrderId: string | undefined
): BodyCheck<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue.path.length ? `${issue.path.join(".")}: ` : ""
    return { ok: false, message: `Invalid body: ${where}${issue.message}` }
  }
  if (parsed.data.order_id !== pathOrderId) {
    return { ok: false, message: "Invalid body: order_id does not name the order of the route" }
  }
  return { ok: true, body: parsed.data }
}
