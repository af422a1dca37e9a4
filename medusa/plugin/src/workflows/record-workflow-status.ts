/**
 * The one way the plugin records a fulfillment workflow status on an order: the status route runs this
 * workflow (docs/contracts.md, "status").
 *
 * Input: { order_id, write } with the route's validated body. Steps:
 * 1. `read-status-order`: the order's status in Medusa (and what its mail is made of, when one is asked for);
 * 2. `compare-and-set-workflow-status`: the conditional write of the order's workflow row (one statement);
 *    compensation: the row's previous values come back, unless a later change was applied meanwhile;
 * 3. `mirror-workflow-state`, when the write applied: the workflow keys into the order's metadata;
 * 4. `send-workflow-mail`, when the write asks for one and the status is recorded: the customer mail, at
 *    most once per order and template, and the mirror again with its marker.
 * A step that fails (the mirror, the mail) undoes the write, so the status function's retry writes and mails
 * again. Output: the route's answer {applied, reason, metadata, notification?}.
 */
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  when,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

import { MAIL_ORDER_FIELDS, type NotificationAnswer } from "../lib/notification"
import { sendOrderMailOnce } from "../lib/order-notification"
import { readOrder } from "../lib/order-read"
import {
  announceOrderUpdated,
  compareAndSet,
  mirrorWorkflowState,
  STATUS_ORDER_FIELDS,
  type StatusOrder,
  type CompareAndSetResult,
  statusAnswer,
  type StatusWriteAnswer,
} from "../lib/order-status"
import { isRecorded, type StatusWrite } from "../lib/status-write"
import { mirrorOf, type OrderWorkflowState } from "../lib/workflow-state"
import { workflowModule, workflowStateOf } from "../lib/workflow-store"

export const RECORD_WORKFLOW_STATUS = "record-workflow-status"

export interface RecordWorkflowStatusInput {
  order_id: string
  write: StatusWrite
}

interface Applied {
  order_id: string
  /** The row's version the write made: the compensation undoes exactly that change. */
  version: number
}

interface MailInput {
  order: StatusOrder
  write: StatusWrite
  outcome: CompareAndSetResult
}

export const readStatusOrderStep = createStep("read-status-order", async (input: RecordWorkflowStatusInput, { container }) => {
  const fields = input.write.notification ? [...STATUS_ORDER_FIELDS, ...MAIL_ORDER_FIELDS] : STATUS_ORDER_FIELDS
  return new StepResponse(await readOrder<StatusOrder>(container, input.order_id, fields))
})

export const compareAndSetWorkflowStatusStep = createStep(
  "compare-and-set-workflow-status",
  async (input: { order: StatusOrder; write: StatusWrite }, { container }) => {
    const outcome = await compareAndSet(container, input.order, input.write)
    const applied: Applied | undefined =
      outcome.applied && outcome.state ? { order_id: input.order.id, version: outcome.state.version } : undefined
    return new StepResponse(outcome, applied)
  },
  async (applied: Applied | undefined, { container }) => {
    if (!applied) return
    await workflowModule(container).revertStatus(applied.order_id, applied.version)
    await mirrorCurrentState(container, applied.order_id)
  }
)

export const mirrorWorkflowStateStep = createStep(
  "mirror-workflow-state",
  async (input: { state: OrderWorkflowState }, { container }) => {
    const mirrored = await mirrorWorkflowState(container, input.state)
    await announceOrderUpdated(container, input.state.order_id)
    return new StepResponse(mirrored)
  }
)

export const sendWorkflowMailStep = createStep("send-workflow-mail", async (input: MailInput, { container }) => {
  const { order, write, outcome } = input
  const notification = write.notification
  if (!notification || !outcome.state || !isRecorded(outcome, outcome.state.status, write)) {
    return new StepResponse<{ answer: NotificationAnswer; state: OrderWorkflowState | null }>({
      answer: { sent: false, reason: "not_recorded" },
      state: outcome.state,
    })
  }
  const answer = await sendOrderMailOnce(container, order, outcome.state, notification)
  const latest = (await workflowStateOf(container, [order.id])).get(order.id) ?? outcome.state
  // The marker is a workflow key too: mirror it once the mail went out.
  const state = answer.sent ? await mirrorWorkflowState(container, latest) : latest
  return new StepResponse({ answer, state })
})

export const recordWorkflowStatusWorkflow = createWorkflow(RECORD_WORKFLOW_STATUS, (input: RecordWorkflowStatusInput) => {
  const order = readStatusOrderStep(input)
  const outcome = compareAndSetWorkflowStatusStep({ order, write: input.write })
  const mirrored = when("mirror-when-applied", { outcome }, ({ outcome }) => outcome.applied && outcome.state !== null).then(
    () => mirrorWorkflowStateStep(transform({ outcome }, ({ outcome }) => ({ state: outcome.state as OrderWorkflowState })))
  )
  const mail = when("mail-when-asked", { input }, ({ input }) => input.write.notification !== undefined).then(() =>
    sendWorkflowMailStep({ order, write: input.write, outcome })
  )
  const answer = transform({ outcome, mirrored, mail }, ({ outcome, mirrored, mail }): StatusWriteAnswer => {
    const state = mail?.state ?? mirrored ?? outcome.state
    return statusAnswer({ ...outcome, state }, mail?.answer)
  })
  return new WorkflowResponse(answer)
})

/**
 * After an undone write: the metadata shows the row as it now stands, or no workflow key when the undone
 * write had made the row (best effort: the row is the truth, and the next applied change mirrors it).
 */
async function mirrorCurrentState(container: MedusaContainer, orderId: string): Promise<void> {
  const state = (await workflowStateOf(container, [orderId])).get(orderId)
  try {
    if (state) {
      await mirrorWorkflowState(container, state)
    } else {
      await container.resolve(Modules.ORDER).updateOrders(orderId, { metadata: mirrorOf(null) })
    }
  } catch (error) {
    container
      .resolve(ContainerRegistrationKeys.LOGGER)
      .warn(`order ${orderId}: the workflow keys in its metadata stay as they were (${(error as Error).message})`)
  }
}
