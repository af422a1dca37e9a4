/**
 * The customer mail that travels with a status write (the `notification` of the status route): the
 * templates the plugin sends, what the shop's Notification Module provider receives as `data`, and the
 * per-order, per-template marker that makes each mail go out at most once.
 *
 * The cloud side names only the template and, for a failure, the reason. Everything else in the mail
 * comes from the order inside Medusa, so no customer data ever leaves the shop.
 */
import { z } from "@medusajs/framework/zod"

import { type CollectionAmounts, type Money, moneyOutcome, paymentSums, readAmount } from "./money"

export const NOTIFICATION_TEMPLATES = ["order-confirmation", "order-canceled-payment", "order-canceled-stock"] as const
export type NotificationTemplate = (typeof NOTIFICATION_TEMPLATES)[number]

/** The Notification Module channel the plugin sends on; the shop registers a provider for it. */
export const NOTIFICATION_CHANNEL = "email"

export const MAX_REASON_LENGTH = 500

export const NotificationRequestSchema = z
  .object({
    template: z.enum(NOTIFICATION_TEMPLATES),
    data: z
      .object({ reason: z.string().min(1).max(MAX_REASON_LENGTH).optional() })
      .strict()
      .prefault({}),
  })
  .strict()

export type NotificationRequest = z.infer<typeof NotificationRequestSchema>

/** The route's answer about the mail. */
export type NotificationAnswer =
  | { sent: true; reason: null }
  | { sent: false; reason: "duplicate" | "not_recorded" | "no_email" }

/** The order's fields the mail is made of (read with the status write, under the same lock). */
export const MAIL_ORDER_FIELDS = [
  "email",
  "display_id",
  "currency_code",
  "total",
  "items.title",
  "items.quantity",
  "payment_collections.captured_amount",
  "payment_collections.refunded_amount",
]

export interface MailOrder {
  id: string
  email?: string | null
  display_id?: number | null
  currency_code?: string | null
  total?: unknown
  items?: ({ title?: string | null; quantity?: unknown } | null)[] | null
  payment_collections?: (CollectionAmounts | null)[] | null
}

/** What the shop's provider receives as the notification's `data` (README: "The notification templates"). */
export interface NotificationData {
  order_id: string
  display_id: number | null
  items: { title: string; quantity: number }[]
  total: number
  currency_code: string
  reason: string | null
  money: Money
}

export function notificationData(order: MailOrder, request: NotificationRequest): NotificationData {
  const collections = (order.payment_collections ?? []).filter((c): c is CollectionAmounts => c !== null)
  return {
    order_id: order.id,
    display_id: order.display_id ?? null,
    items: (order.items ?? []).flatMap((item) =>
      item ? [{ title: item.title ?? "", quantity: Number(item.quantity ?? 0) }] : []
    ),
    total: readAmount(order.total),
    currency_code: order.currency_code ?? "",
    reason: request.data.reason ?? null,
    money: moneyOutcome(paymentSums(collections)),
  }
}

/** The order's workflow key that records the mail sent for `template` (e.g. workflow_mail_order_confirmation). */
export function mailMarkerKey(template: string): string {
  return `workflow_mail_${template.replace(/-/g, "_")}`
}

/** Medusa's Notification Module skips a notification whose idempotency key it has already sent. */
export function idempotencyKey(orderId: string, template: string): string {
  return `${orderId}.${template}`
}
