/**
 * The one way the plugin sends an order's `order.placed` webhook: the subscriber, the reconciliation job
 * and the admin's "resend" all run this workflow.
 *
 * Input: { order_id, placed_at?, single_attempt? }. Output: the delivery's outcome
 * (`delivered` with the receiver's status and body, `rejected`, `gave_up`, or `not_configured`).
 */
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { createStep, createWorkflow, StepResponse, WorkflowResponse } from "@medusajs/framework/workflows-sdk"

import { webhookTarget } from "../lib/options"
import { orderPlacedEvent } from "../lib/order-placed"
import { pluginOptions } from "../lib/settings"
import { type DeliveryOutcome, sendWebhook } from "../lib/webhook-sender"

export const SEND_ORDER_PLACED_WEBHOOK = "send-order-placed-webhook"

export interface SendOrderPlacedWebhookInput {
  order_id: string
  /** When the order was placed, as the sender knows it; the body's timestamp. */
  placed_at?: string | Date
  /** One attempt only (the reconciliation job: its next run is the retry). */
  single_attempt?: boolean
}

export type SendOrderPlacedWebhookResult = DeliveryOutcome | { result: "not_configured" }

export const deliverOrderPlacedWebhookStep = createStep(
  "deliver-order-placed-webhook",
  async (input: SendOrderPlacedWebhookInput, { container }) => {
    const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
    const options = pluginOptions(container)
    const target = webhookTarget(options)
    if (!target) {
      logger.error(`order ${input.order_id}: order.placed not forwarded, no webhook URL or secret is configured`)
      return new StepResponse<SendOrderPlacedWebhookResult>({ result: "not_configured" })
    }
    const retry = input.single_attempt ? { ...options.retry, maxAttempts: 1 } : options.retry
    const outcome = await sendWebhook(orderPlacedEvent(input.order_id, input.placed_at), {
      ...target,
      retry,
      logger,
    })
    return new StepResponse<SendOrderPlacedWebhookResult>(outcome)
  }
)

export const sendOrderPlacedWebhookWorkflow = createWorkflow(
  SEND_ORDER_PLACED_WEBHOOK,
  (input: SendOrderPlacedWebhookInput) => new WorkflowResponse(deliverOrderPlacedWebhookStep(input))
)
