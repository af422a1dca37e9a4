/**
 * POST /admin/fulfillment-workflow/orders/{id}/resend: the admin's "Resend to workflow".
 *
 * Sends the order's `order.placed` webhook again, once, and answers with what the webhook said (a person
 * is waiting; the subscriber's delivery retries for minutes and answers nobody). Safe for any open order:
 * the order webhook starts a process only when none exists for the order and answers `duplicate` otherwise.
 * A draft, canceled or archived order gets no process at all (the rule "Restart workflow" follows too), so
 * it is refused before anything is sent.
 * Answers 200 {order_id, status} with the webhook's status ("started" or "duplicate"); 404 for an unknown
 * order; 409 {message} for a closed order, saying why and what to do (nothing sent, nothing changed); 502
 * {message} when the webhook refused the delivery or could not be reached.
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { canceledWhileSending, orderRecord, type ResendAnswer, webhookStatus } from "../../../../../../lib/admin-view"
import { ORDER_PLACED } from "../../../../../../lib/order-events"
import { newProcessBlocker } from "../../../../../../lib/workflow-view"
import { sendOrderEventWorkflow } from "../../../../../../workflows"

export async function POST(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const order = await orderRecord(req.scope, req.params.id)
  const closed = newProcessBlocker(order)
  if (closed) {
    res.status(409).json({ type: "resend_refused", message: `${closed} Nothing was sent.` })
    return
  }
  const { result: outcome } = await sendOrderEventWorkflow(req.scope).run({
    input: { order_id: order.id, event: ORDER_PLACED },
  })
  if (outcome.result === "order_canceled") {
    res.status(409).json({ type: "resend_refused", message: canceledWhileSending("the resend") })
    return
  }
  if (outcome.result !== "delivered") {
    res.status(502).json({ type: "webhook_not_delivered", message: failureMessage(outcome) })
    return
  }
  const answer: ResendAnswer = { order_id: order.id, status: webhookStatus(outcome.body) }
  res.json(answer)
}

function failureMessage(outcome: { result: string; status?: number; lastError?: string }): string {
  switch (outcome.result) {
    case "not_configured":
      return "The plugin has no webhook URL or secret configured."
    case "rejected":
      return `The order webhook refused the order (HTTP ${outcome.status}).`
    default:
      return `The order webhook could not be reached (${outcome.lastError ?? "no answer"}); try again later.`
  }
}
