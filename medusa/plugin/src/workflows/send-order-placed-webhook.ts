/**
 * The one way the plugin sends an order's `order.placed` webhook: the subscriber, the reconciliation job
 * and the admin's "resend" all run this workflow.
 *
 * Input: { order_id, placed_at?, single_attempt? }. Output: the delivery's outcome: `delivered` (with the
 * receiver's HTTP status and body, e.g. {"status": "started"} or {"status": "duplicate"}), `rejected`
 * (a 4xx no retry can fix), `gave_up` (retries used up), or `not_configured` (no URL or secret).
 *
 * Each run of the step is one attempt. A failure worth retrying (network error, timeout, 408, 429, 5xx)
 * waits out the backoff, or the receiver's Retry-After, then fails the step, and Medusa's workflow engine
 * runs it again: the step's own retries, counted by Medusa. The wait happens inside the step because a
 * step's retry interval is fixed, while the backoff doubles and Retry-After is the receiver's to choose.
 */
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { createStep, createWorkflow, StepResponse, WorkflowResponse } from "@medusajs/framework/workflows-sdk"
import { setTimeout as sleep } from "node:timers/promises"

import { MAX_DELIVERY_ATTEMPTS, webhookTarget } from "../lib/options"
import { orderPlacedEvent } from "../lib/order-placed"
import { pluginOptions } from "../lib/settings"
import { attemptDelivery, type DeliveryOutcome } from "../lib/webhook-sender"

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
  // The options' retry.maxAttempts decides when to stop; this only has to be at least as high.
  { name: "deliver-order-placed-webhook", maxRetries: MAX_DELIVERY_ATTEMPTS - 1 },
  async (input: SendOrderPlacedWebhookInput, { container, attempt }) => {
    const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
    const options = pluginOptions(container)
    const target = webhookTarget(options)
    if (!target) {
      logger.error(`order ${input.order_id}: order.placed not forwarded, no webhook URL or secret is configured`)
      return new StepResponse<SendOrderPlacedWebhookResult>({ result: "not_configured" })
    }
    const retry = input.single_attempt ? { ...options.retry, maxAttempts: 1 } : options.retry
    const event = orderPlacedEvent(input.order_id, input.placed_at)
    const outcome = await attemptDelivery(event, attempt, { ...target, retry, logger })
    if (outcome.result === "retry") {
      await sleep(outcome.delayMs)
      throw new Error(`webhook ${event.id}: attempt ${attempt} failed (${outcome.reason})`)
    }
    return new StepResponse<SendOrderPlacedWebhookResult>(outcome)
  }
)

export const sendOrderPlacedWebhookWorkflow = createWorkflow(
  SEND_ORDER_PLACED_WEBHOOK,
  (input: SendOrderPlacedWebhookInput) => new WorkflowResponse(deliverOrderPlacedWebhookStep(input))
)
