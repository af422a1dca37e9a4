/**
 * The answer of POST /fulfillment-workflow/orders/{id}/view, without Medusa: the order as the worker
 * needs it to decide on payment and stock, in one answer (docs/contracts.md). It is built field by field,
 * so nothing else the order carries (email, addresses, names) can slip into it.
 */
import { readAmount } from "./money"

/** The order's fields for Medusa's Query (`payment_status` is computed from the collections). */
export const WORKER_VIEW_FIELDS = [
  "id",
  "display_id",
  "status",
  "currency_code",
  "total",
  "created_at",
  "payment_collections.id",
  "payment_collections.status",
  "payment_collections.currency_code",
  "payment_collections.amount",
  "payment_collections.authorized_amount",
  "payment_collections.captured_amount",
  "payment_collections.refunded_amount",
  "items.id",
  "items.title",
  "items.variant_id",
  "items.variant_sku",
  "items.quantity",
  "items.detail.fulfilled_quantity",
  "items.variant.manage_inventory",
  "items.variant.inventory_items.inventory_item_id",
  "items.variant.inventory_items.required_quantity",
]

interface Nullable {
  [key: string]: unknown
}

export interface QueriedOrder {
  id: string
  display_id?: number | null
  status?: string | null
  currency_code?: string | null
  total?: unknown
  created_at?: string | Date | null
  payment_collections?: (Nullable | null)[] | null
  items?: (Nullable | null)[] | null
}

export interface QueriedReservation {
  id: string
  line_item_id?: string | null
  inventory_item_id: string
  location_id: string
  quantity?: unknown
}

export interface WorkerView {
  order: {
    id: string
    display_id: number | null
    status: string | null
    currency_code: string | null
    total: number
    created_at: string | null
    payment_status: string
    payment_collections: {
      id: string
      status: string | null
      amount: number
      authorized_amount: number
      captured_amount: number
    }[]
    items: {
      id: string
      title: string | null
      variant_id: string | null
      variant_sku: string | null
      quantity: number
      detail: { fulfilled_quantity: number }
      variant: { manage_inventory: boolean; inventory_items: { inventory_item_id: string; required_quantity: number }[] } | null
    }[]
    reservations: { id: string; line_item_id: string | null; inventory_item_id: string; location_id: string; quantity: number }[]
    /** The order's workflow keys as the plugin's module holds them (./workflow-state.ts). */
    workflow: Record<string, string>
  }
}

export function workerView(
  order: QueriedOrder,
  paymentStatus: string,
  reservations: QueriedReservation[],
  workflow: Record<string, string>
): WorkerView {
  return {
    order: {
      id: order.id,
      display_id: order.display_id ?? null,
      status: order.status ?? null,
      currency_code: order.currency_code ?? null,
      total: readAmount(order.total),
      created_at: order.created_at ? new Date(order.created_at).toISOString() : null,
      payment_status: paymentStatus,
      payment_collections: present(order.payment_collections).map((collection) => ({
        id: String(collection.id),
        status: stringOrNull(collection.status),
        amount: readAmount(collection.amount),
        authorized_amount: readAmount(collection.authorized_amount),
        captured_amount: readAmount(collection.captured_amount),
      })),
      items: present(order.items).map(itemView),
      reservations: reservations.map((reservation) => ({
        id: reservation.id,
        line_item_id: reservation.line_item_id ?? null,
        inventory_item_id: reservation.inventory_item_id,
        location_id: reservation.location_id,
        quantity: readAmount(reservation.quantity),
      })),
      workflow,
    },
  }
}

function itemView(item: Nullable): WorkerView["order"]["items"][number] {
  const detail = (item.detail ?? null) as Nullable | null
  const variant = (item.variant ?? null) as Nullable | null
  return {
    id: String(item.id),
    title: stringOrNull(item.title),
    variant_id: stringOrNull(item.variant_id),
    variant_sku: stringOrNull(item.variant_sku),
    quantity: readAmount(item.quantity),
    detail: { fulfilled_quantity: readAmount(detail?.fulfilled_quantity) },
    variant: variant
      ? {
          manage_inventory: variant.manage_inventory === true,
          inventory_items: present(variant.inventory_items as (Nullable | null)[] | null).map((link) => ({
            inventory_item_id: String(link.inventory_item_id),
            required_quantity: readAmount(link.required_quantity) || 1,
          })),
        }
      : null,
  }
}

function present(list: (Nullable | null)[] | null | undefined): Nullable[] {
  return (list ?? []).filter((entry): entry is Nullable => entry !== null && typeof entry === "object")
}

/** A string field of Medusa's record as it is; anything else (absent, null) is null. */
function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null
}
