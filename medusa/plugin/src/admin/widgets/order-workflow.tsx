/**
 * Order details, side column: where the order is in the fulfillment process, a way to send it to the
 * workflow again, and the actions on its process (incidents, restart: ../components/workflow-actions.tsx).
 */
import { defineWidgetConfig } from "@medusajs/admin-sdk"
import type { AdminOrder, DetailWidgetProps } from "@medusajs/framework/types"
import { ArrowUpRightOnBox, CheckCircleSolid, EllipseMiniSolid, XCircleSolid } from "@medusajs/icons"
import { Badge, Button, Container, Heading, StatusBadge, Text, toast, usePrompt } from "@medusajs/ui"
import { isFinalState, type ResendOption, type StepMark, type WorkflowView } from "../../lib/workflow-view"
import { WorkflowActions } from "../components/workflow-actions"
import { useOrderWorkflow, useResendToWorkflow } from "../lib/fulfillment-workflow"
import {
  humanizeTimes,
  MARK_LABELS,
  refreshSentence,
  relativeTime,
  STATE_COLORS,
  statusLabel,
  statusSentence,
  STEP_LABELS,
} from "../lib/presentation"

const OrderWorkflowWidget = ({ data: order }: DetailWidgetProps<AdminOrder>) => {
  const { data, isPending, error, failures, nextReadMs } = useOrderWorkflow(order.id)
  const refresh = refreshSentence({ failures, nextReadMs, error: error?.message })
  return (
    <Container className="divide-y p-0" data-testid="fulfillment-workflow">
      <div className="flex items-center justify-between px-6 py-4">
        <Heading level="h2">Fulfillment workflow</Heading>
        {data && <StateBadges view={data.workflow} />}
      </div>
      {isPending && !error && <Row>Loading…</Row>}
      {data && <WorkflowDetails view={data.workflow} />}
      {refresh && <Row testId="workflow-refresh">{refresh}</Row>}
      {data && <Resend option={data.resend} orderId={order.id} displayId={order.display_id} />}
      {data && (
        <WorkflowActions
          orderId={order.id}
          displayId={order.display_id}
          ended={isFinalState(data.workflow.state) || data.workflow.order_status === "canceled"}
        />
      )}
    </Container>
  )
}

const Row = ({ children, testId }: { children: React.ReactNode; testId?: string }) => (
  <div className="px-6 py-4">
    <Text size="small" className="text-ui-fg-subtle" data-testid={testId}>
      {children}
    </Text>
  </div>
)

const StateBadges = ({ view }: { view: WorkflowView }) => (
  <div className="flex items-center gap-x-2">
    {view.stalled && (
      <Badge color="orange" size="2xsmall" data-testid="workflow-stalled">
        Stalled
      </Badge>
    )}
    <StatusBadge color={STATE_COLORS[view.state]} data-testid="workflow-status" data-state={view.state}>
      {statusLabel(view.status)}
    </StatusBadge>
  </div>
)

const WorkflowDetails = ({ view }: { view: WorkflowView }) => (
  <>
    <ul className="flex flex-col gap-y-2 px-6 py-4" aria-label="Workflow steps">
      {view.steps.map((step) => (
        <li key={step.name} className="flex items-center justify-between" data-step={step.name} data-mark={step.mark}>
          <Text size="small" weight="plus">
            {STEP_LABELS[step.name]}
          </Text>
          <span className="flex items-center gap-x-1">
            <MarkIcon mark={step.mark} />
            <Text size="small" className="text-ui-fg-subtle">
              {MARK_LABELS[step.mark]}
            </Text>
          </span>
        </li>
      ))}
    </ul>
    <div className="flex flex-col gap-y-1 px-6 py-4">
      <Text size="small" weight="plus" data-testid="workflow-summary">
        {statusSentence(view)}
      </Text>
      {view.message && (
        <Text size="small" className="text-ui-fg-subtle" title={view.message} data-testid="workflow-message">
          {humanizeTimes(view.message)}
        </Text>
      )}
      {view.last_updated && (
        <Text size="xsmall" className="text-ui-fg-muted" title={view.last_updated} data-testid="workflow-updated">
          Updated {relativeTime(view.last_updated)}
        </Text>
      )}
    </div>
    {view.process_instance_key && <InstanceKey view={view} />}
  </>
)

const MarkIcon = ({ mark }: { mark: StepMark }) => {
  if (mark === "done") return <CheckCircleSolid className="text-ui-tag-green-icon" />
  if (mark === "failed") return <XCircleSolid className="text-ui-tag-red-icon" />
  return <EllipseMiniSolid className="text-ui-tag-neutral-icon" />
}

const InstanceKey = ({ view }: { view: WorkflowView }) => (
  <div className="flex items-center justify-between px-6 py-4">
    <Text size="small" className="text-ui-fg-subtle">
      Process instance
    </Text>
    {view.operate_url ? (
      <a
        href={view.operate_url}
        target="_blank"
        rel="noreferrer"
        className="txt-compact-small text-ui-fg-interactive flex items-center gap-x-1"
        data-testid="workflow-instance"
      >
        {view.process_instance_key}
        <ArrowUpRightOnBox />
      </a>
    ) : (
      <Text size="small" className="font-mono" data-testid="workflow-instance">
        {view.process_instance_key}
      </Text>
    )}
  </div>
)

/** "Resend to workflow" where it can do something; otherwise, or as well, the reason why not. */
const Resend = ({ option, orderId, displayId }: { option: ResendOption; orderId: string; displayId?: number }) => (
  <div className="flex flex-col items-end gap-y-2 px-6 py-4">
    {option.offer !== "hidden" && (
      <ResendButton orderId={orderId} displayId={displayId} disabled={option.offer === "disabled"} />
    )}
    {option.reason && (
      <Text size="xsmall" className="text-ui-fg-muted self-start" data-testid="workflow-resend-reason">
        {option.reason}
      </Text>
    )}
  </div>
)

const ResendButton = ({ orderId, displayId, disabled }: { orderId: string; displayId?: number; disabled: boolean }) => {
  const prompt = usePrompt()
  const resend = useResendToWorkflow(orderId)
  const onClick = async () => {
    const confirmed = await prompt({
      title: `Resend order #${displayId ?? orderId} to the workflow?`,
      description:
        "The order is sent to the fulfillment workflow, which starts its process. If a process started " +
        "meanwhile, nothing new starts.",
      confirmText: "Resend",
      cancelText: "Cancel",
      variant: "confirmation",
    })
    if (!confirmed) return
    resend.mutate(undefined, {
      onSuccess: (answer) =>
        answer.status === "started"
          ? toast.success("Sent to the workflow", { description: "A new process was started for this order." })
          : toast.info("Already in the workflow", {
              description: "A process for this order started meanwhile; no second one was started.",
            }),
      onError: (err) => toast.error("Could not resend the order", { description: err.message }),
    })
  }
  return (
    <Button size="small" variant="secondary" onClick={onClick} isLoading={resend.isPending} disabled={disabled}>
      Resend to workflow
    </Button>
  )
}

export const config = defineWidgetConfig({ zone: "order.details.side.after" })

export default OrderWorkflowWidget
