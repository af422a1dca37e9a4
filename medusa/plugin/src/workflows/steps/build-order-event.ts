/**
 * Reads the order and builds its event (../../lib/order-events.ts), once per run of a delivery workflow:
 * every attempt of that delivery then sends the same bytes. `null` for an `order.canceled` of an order
 * Medusa does not show canceled (nothing is sent).
 */
import { createStep, StepResponse } from "@medusajs/framework/workflows-sdk"

import { EVENT_ORDER_FIELDS, type EventOrder, type ForwardedEvent, orderEvent } from "../../lib/order-events"
import { readOrder } from "../../lib/order-read"
import { workflowStateOf } from "../../lib/workflow-store"

export interface OrderEventInput {
  order_id: string
  event: ForwardedEvent
}

export const BUILD_ORDER_EVENT = "fulfillment-workflow-build-order-event"

export const buildOrderEventStep = createStep(BUILD_ORDER_EVENT, async (input: OrderEventInput, { container }) => {
  const order = await readOrder<EventOrder>(container, input.order_id, EVENT_ORDER_FIELDS)
  const state = (await workflowStateOf(container, [order.id])).get(order.id)
  const restart_count = (state as { restart_count?: number } | undefined)?.restart_count ?? 0
  return new StepResponse(orderEvent(input.event, { ...order, workflow_status: state?.status ?? null, restart_count }))
})
