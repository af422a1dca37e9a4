/**
 * What happened to the customer's money, from the order's payment collections: the sums Medusa keeps on
 * each collection (captured and refunded), and the outcome a mail can state truthfully.
 */

export type MoneyOutcome = "nothing_taken" | "refunded_in_full" | "partly_refunded"

export interface PaymentSums {
  captured_amount: number
  refunded_amount: number
}

export interface Money extends PaymentSums {
  outcome: MoneyOutcome
}

/** A payment collection as Medusa's Query returns it (amounts may be null before anything happened). */
export interface CollectionAmounts {
  captured_amount?: unknown
  refunded_amount?: unknown
}

/** Amounts smaller than this are rounding noise of summed decimals, not money. */
const EPSILON = 1e-6

/** The captured and refunded sums over all the order's payment collections. */
export function paymentSums(collections: readonly CollectionAmounts[] | null | undefined): PaymentSums {
  let captured = 0
  let refunded = 0
  for (const collection of collections ?? []) {
    captured += readAmount(collection.captured_amount)
    refunded += readAmount(collection.refunded_amount)
  }
  return { captured_amount: withoutDrift(captured), refunded_amount: withoutDrift(refunded) }
}

/**
 * Nothing captured: nothing was taken (an authorization is released by the cancel). Captured and refunded
 * to the last cent: refunded in full. Anything between: partly refunded (staff settle the rest).
 */
export function moneyOutcome(sums: PaymentSums): Money {
  const { captured_amount: captured, refunded_amount: refunded } = sums
  const outcome: MoneyOutcome =
    captured <= EPSILON ? "nothing_taken" : refunded >= captured - EPSILON ? "refunded_in_full" : "partly_refunded"
  return { outcome, ...sums }
}

/** Medusa's Query gives big numbers as numbers; a numeric string or a BigNumber-like object is read too. */
export function readAmount(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) ? value : 0
  if (typeof value === "string") return Number(value) || 0
  if (typeof value === "object" && value !== null && "numeric" in value) {
    return readAmount((value as { numeric: unknown }).numeric)
  }
  return 0
}

/** Sums of decimals drift (0.1 + 0.2); no currency Medusa supports has more than 4 decimal digits. */
function withoutDrift(value: number): number {
  return Math.round(value * 10_000) / 10_000
}
