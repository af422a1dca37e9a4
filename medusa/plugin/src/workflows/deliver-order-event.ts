/**
 * The durable delivery of an order's event, which the subscribers start and never wait for: a Medusa
 * subscriber holds its event until it returns (with the Redis event bus, one job at a time by default,
 * the shop's whole event queue waits behind it), so the subscriber only starts this workflow.
 *
 * How Medusa 2.21 runs it (orchestration's TransactionOrchestrator, workflow-engine-inmemory/-redis):
 * - The delivery step is `async` with `backgroundExecution`: the subscriber's `run()` returns once the
 *   engine has stored the transaction, and the attempt runs in the background, so even a receiver that
 *   never answers costs the subscriber nothing.
 * - A failed attempt fails the step; with `retryInterval` the engine schedules the next run of the step
 *   (a timer with the in-memory engine, a delayed BullMQ job with the Redis engine, which any Medusa
 *   worker process picks up, also after a restart) up to `maxRetries`. The interval is fixed per step:
 *   ../lib/webhook-sender.ts `retryIntervalMs` says how it approximates the retry options' backoff. The
 *   step itself gives up after `retry.maxAttempts` and answers `gave_up`; the reconciliation job
 *   (../jobs/reconcile-order-events.ts) takes over from there.
 * - The transaction id is the event's webhook-id, one per order and event (`msg_order_placed_<id>`), and
 *   the workflow is `idempotent`, so a second run for the same order and event (Medusa emitting it
 *   again, the Redis event bus running a stalled event job again) sends nothing:
 *   - while the first delivery runs, the engine loads its stored transaction instead of starting one;
 *     its step is either in flight or waiting for its scheduled retry, so nothing runs. Two runs
 *     starting at the same moment: the second one's first save is refused ("Transaction already started
 *     for transactionId", a SkipExecutionError), which startOrderEventDelivery takes as "under way";
 *   - once it finished, `idempotent` makes the engine return the finished transaction (and its outcome)
 *     instead of running it again, for as long as the execution is kept: `retentionTime`. Without a
 *     retention time Medusa deletes a finished execution at once, and the same id would run again.
 * - A Medusa process that dies during an attempt leaves the step in flight, and nothing retries it; the
 *   reconciliation job sends the event again for an order whose workflow did not react.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { createStep, createWorkflow, StepResponse, transform, WorkflowResponse } from "@medusajs/framework/workflows-sdk"

import { MAX_DELIVERY_ATTEMPTS, resolveOptions } from "../lib/options"
import { eventMessageId, type ForwardedEvent } from "../lib/order-events"
import { registeredOptions } from "../lib/settings"
import { retryIntervalMs } from "../lib/webhook-sender"
import { deliveryOf } from "./send-order-event"
import { attemptOrderEvent, type OrderEventDelivery, type OrderEventOutcome } from "./steps/attempt-order-event"
import { buildOrderEventStep, type OrderEventInput } from "./steps/build-order-event"

export const DELIVER_ORDER_EVENT = "fulfillment-workflow-deliver-order-event"

/**
 * How long a finished delivery is kept, so that the same order and event within that time is a no-op:
 * longer than anything that could emit an order's event again, short enough that the executions table
 * stays small (Medusa deletes expired executions every 30 minutes).
 */
export const DELIVERY_RETENTION_SECONDS = 24 * 60 * 60

/**
 * A step's retry settings are fixed when the step is defined, before any container exists: they come
 * from the options as registered in medusa-config.ts (the defaults outside Medusa). The step's own
 * count of attempts uses the options the plugin's module holds.
 */
export function durableRetrySettings(): { maxRetries: number; retryInterval: number } {
  const retry = (registeredOptions() ?? resolveOptions({})).retry
  return {
    // The step stops at retry.maxAttempts itself; the engine's budget only has to be at least that.
    maxRetries: MAX_DELIVERY_ATTEMPTS - 1,
    retryInterval: retryIntervalMs(retry) / 1000,
  }
}

export const deliverOrderEventStep = createStep(
  {
    name: "fulfillment-workflow-deliver-order-event-attempt",
    async: true,
    backgroundExecution: true,
    ...durableRetrySettings(),
  },
  async (delivery: OrderEventDelivery, { container, attempt }) => {
    const outcome = await attemptOrderEvent(delivery, container, attempt)
    if (outcome.result === "retry") {
      // The engine runs the step again after its retry interval.
      throw new Error(`webhook ${delivery.event?.id}: attempt ${attempt} failed (${outcome.reason})`)
    }
    return new StepResponse<OrderEventOutcome>(outcome)
  }
)

export const deliverOrderEventWorkflow = createWorkflow(
  { name: DELIVER_ORDER_EVENT, idempotent: true, retentionTime: DELIVERY_RETENTION_SECONDS },
  (input: OrderEventInput) => {
    const event = buildOrderEventStep(input)
    const delivery = transform({ input, event }, deliveryOf)
    return new WorkflowResponse(deliverOrderEventStep(delivery))
  }
)

/** Starts the delivery of the order's event and returns at once; a second start for it sends nothing. */
export async function startOrderEventDelivery(
  container: MedusaContainer,
  event: ForwardedEvent,
  orderId: string
): Promise<void> {
  const transactionId = eventMessageId(event, orderId)
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const started = Date.now()
  try {
    await deliverOrderEventWorkflow(container).run({ input: { order_id: orderId, event }, context: { transactionId } })
  } catch (error) {
    if (error instanceof Error && SkipExecutionError.isSkipExecutionError(error)) {
      logger.info(`webhook ${transactionId}: a delivery is already under way`)
      return
    }
    throw error
  }
  logger.info(`webhook ${transactionId}: delivery handed to the workflow engine in ${Date.now() - started} ms`)
}
