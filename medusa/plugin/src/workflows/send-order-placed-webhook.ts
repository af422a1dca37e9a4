/**
 * The one way the plugin sends an order's webhooks: the subscribers (`order.placed`, `order.canceled`),
 * the reconciliation job and the admin's "resend" all run this workflow.
 *
 * Input: { order_id, event?, single_attempt? } (`event` defaults to `order.placed`). Its first step reads
 * the order and builds the event (../lib/order-events.ts): `order.placed` carries what the process needs,
 * `order.canceled` is sent only for an order read as canceled. Output: the delivery's outcome: `delivered`
 * (with the receiver's HTTP status and body, e.g. {"status": "started"} or {"status": "duplicate"}),
 * `rejected` (a 4xx no retry can fix), `gave_up` (retries used up), `not_configured` (no URL or secret),
 * or `not_canceled` (an `order.canceled` for an order that is not canceled: nothing sent).
 *
 * Each run of the delivery step is one attempt. A failure worth retrying (network error, timeout, 408,
 * 429, 5xx) waits out the backoff, or the receiver's Retry-After, then fails the step, and Medusa's
 * workflow engine runs it again: the step's own retries, counted by Medusa. The wait happens inside the
 * step because a step's retry interval is fixed, while the backoff doubles and Retry-After is the
 * receiver's to choose.
 */
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { setTimeout as sleep } from "node:timers/promises"

import { MAX_DELIVERY_ATTEMPTS, webhookTarget } from "../lib/options"
import { EVENT_ORDER_FIELDS, type EventOrder, type ForwardedEvent, ORDER_PLACED, orderEvent } from "../lib/order-events"
import { readOrder } from "../lib/order-read"
import { pluginOptions } from "../lib/settings"
import { attemptDelivery, type DeliveryOutcome, type WebhookEvent } from "../lib/webhook-sender"

export const SEND_ORDER_PLACED_WEBHOOK = "send-order-placed-webhook"

export interface SendOrderPlacedWebhookInput {
  order_id: string
  /** One attempt only (the reconciliation job and the admin's resend: a next run or a person retries). */
  single_attempt?: boolean
  /** Which event to send (default `order.placed`). */
  event?: ForwardedEvent
}

export type SendOrderPlacedWebhookResult =
  | DeliveryOutcome
  | { result: "not_configured" }
  | { result: "not_canceled" }

interface Delivery {
  order_id: string
  event_name: ForwardedEvent
  event: WebhookEvent | null
  single_attempt: boolean
}

/** Reads the order and builds its event: the order as it is now, once per run of the workflow. */
export const buildOrderEventStep = createStep(
  "build-order-event",
  async (input: SendOrderPlacedWebhookInput, { container }) => {
    const order = await readOrder<EventOrder>(container, input.order_id, EVENT_ORDER_FIELDS)
    return new StepResponse(orderEvent(input.event ?? ORDER_PLACED, order))
  }
)

export const deliverOrderPlacedWebhookStep = createStep(
  // The options' retry.maxAttempts decides when to stop; this only has to be at least as high.
  { name: "deliver-order-placed-webhook", maxRetries: MAX_DELIVERY_ATTEMPTS - 1 },
  async (input: Delivery, { container, attempt }) => {
    const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
    const options = pluginOptions(container)
    const target = webhookTarget(options)
    if (!target) {
      logger.error(`order ${input.order_id}: ${input.event_name} not forwarded, no webhook URL or secret is configured`)
      return new StepResponse<SendOrderPlacedWebhookResult>({ result: "not_configured" })
    }
    if (!input.event) {
      logger.warn(`order ${input.order_id}: ${input.event_name} not forwarded, Medusa does not show the order canceled`)
      return new StepResponse<SendOrderPlacedWebhookResult>({ result: "not_canceled" })
    }
    const retry = input.single_attempt ? { ...options.retry, maxAttempts: 1 } : options.retry
    const outcome = await attemptDelivery(input.event, attempt, { ...target, retry, logger })
    if (outcome.result === "retry") {
      await sleep(outcome.delayMs)
      throw new Error(`webhook ${input.event.id}: attempt ${attempt} failed (${outcome.reason})`)
    }
    return new StepResponse<SendOrderPlacedWebhookResult>(outcome)
  }
)

export const sendOrderPlacedWebhookWorkflow = createWorkflow(
  SEND_ORDER_PLACED_WEBHOOK,
  (input: SendOrderPlacedWebhookInput) => {
    const event = buildOrderEventStep(input)
    const delivery = transform({ input, event }, ({ input, event }): Delivery => ({
      order_id: input.order_id,
      event_name: input.event ?? ORDER_PLACED,
      event,
      single_attempt: input.single_attempt ?? false,
    }))
    return new WorkflowResponse(deliverOrderPlacedWebhookStep(delivery))
  }
)
