/**
 * Sends an order's event once and answers with what the receiver said: the admin's "Resend to workflow"
 * (a person is waiting) and the reconciliation job (its next run is the retry) use it.
 *
 * Input: { order_id, event } (`order.placed` or `order.canceled`). Output: `delivered` (with the
 * receiver's HTTP status and body, e.g. {"status": "started"} or {"status": "duplicate"}), `rejected` (a
 * 4xx no retry can fix), `gave_up` (no answer, or one worth retrying), `not_configured` (no URL or
 * secret), or `not_canceled` (an `order.canceled` for an order that is not canceled: nothing sent).
 */
import { createStep, createWorkflow, StepResponse, transform, WorkflowResponse } from "@medusajs/framework/workflows-sdk"

import { attemptOrderEvent, type OrderEventDelivery, type OrderEventOutcome } from "./steps/attempt-order-event"
import { buildOrderEventStep, type OrderEventInput } from "./steps/build-order-event"

export const SEND_ORDER_EVENT = "fulfillment-workflow-send-order-event"

export const sendOrderEventOnceStep = createStep(
  "fulfillment-workflow-send-order-event-once",
  async (delivery: OrderEventDelivery, { container }) => {
    const outcome = await attemptOrderEvent(delivery, container, 1, 1)
    // With one attempt allowed, a failure worth retrying already comes back as `gave_up`.
    const final: OrderEventOutcome =
      outcome.result === "retry" ? { result: "gave_up", attempts: 1, lastError: outcome.reason } : outcome
    return new StepResponse(final)
  }
)

export const sendOrderEventWorkflow = createWorkflow(SEND_ORDER_EVENT, (input: OrderEventInput) => {
  const event = buildOrderEventStep(input)
  const delivery = transform({ input, event }, deliveryOf)
  return new WorkflowResponse(sendOrderEventOnceStep(delivery))
})

export function deliveryOf({ input, event }: { input: OrderEventInput; event: OrderEventDelivery["event"] }): OrderEventDelivery {
  return { order_id: input.order_id, event_name: input.event, event }
}
