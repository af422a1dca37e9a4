/**
 * The order page's actions on the order's process: its open incidents with "Retry", "Restart workflow" for a
 * lost process, and the latest of each as a sentence. Every action asks for confirmation first; the routes
 * ask Camunda before they change anything and answer a sentence when they refuse.
 */
import { Button, Label, Prompt, Text, Textarea, toast, usePrompt } from "@medusajs/ui"
import { useState } from "react"
import type { IncidentView, OrderActionsAnswer } from "../../lib/order-actions-view"
import { elementWords, incidentSentence, restartSentence, retrySentence } from "../lib/action-sentences"
import { useOrderActions, useRestartWorkflow, useRetryIncident } from "../lib/order-actions-api"

export const WorkflowActions = ({ orderId, displayId, ended }: { orderId: string; displayId?: number; ended: boolean }) => {
  const { data, error } = useOrderActions(orderId, ended)
  if (error) {
    return <Section testId="workflow-actions-error">Could not read the order's incidents ({error.message}).</Section>
  }
  if (!data) return null
  return (
    <div className="flex flex-col divide-y" data-testid="workflow-actions">
      {data.incidents.map((incident) => (
        <IncidentRow key={incident.incident_key} incident={incident} orderId={orderId} />
      ))}
      <Records answer={data} />
      <Restart answer={data} orderId={orderId} displayId={displayId} />
    </div>
  )
}

const Section = ({ children, testId }: { children: React.ReactNode; testId?: string }) => (
  <div className="px-6 py-4">
    <Text size="small" className="text-ui-fg-subtle" data-testid={testId}>
      {children}
    </Text>
  </div>
)

const IncidentRow = ({ incident, orderId }: { incident: IncidentView; orderId: string }) => {
  const prompt = usePrompt()
  const retry = useRetryIncident(orderId)
  const onRetry = async () => {
    const confirmed = await prompt({
      title: `Retry the incident at ${elementWords(incident.element_id)}?`,
      description:
        "The step gets its retries back and the process goes on from it. Fix the cause first " +
        `(the incident says: ${incident.message}).`,
      confirmText: "Retry",
      cancelText: "Cancel",
      variant: "confirmation",
    })
    if (!confirmed) return
    retry.mutate(incident.incident_key, {
      onSuccess: () => toast.success("Incident retried", { description: "The process goes on from that step." }),
      onError: (err) => toast.error("Could not retry the incident", { description: err.message }),
    })
  }
  return (
    <div className="flex flex-col gap-y-2 px-6 py-4" data-testid="workflow-incident" data-incident={incident.incident_key}>
      <Text size="small" weight="plus" className="text-ui-fg-error">
        {incidentSentence(incident)}
      </Text>
      <Text size="small" className="text-ui-fg-subtle" data-testid="workflow-incident-message">
        {incident.message}
      </Text>
      <div className="flex justify-end">
        <Button size="small" variant="secondary" onClick={onRetry} isLoading={retry.isPending}>
          Retry
        </Button>
      </div>
    </div>
  )
}

const Records = ({ answer }: { answer: OrderActionsAnswer }) => {
  if (!answer.last_restart && !answer.last_retry && !answer.camunda_problem) return null
  return (
    <div className="flex flex-col gap-y-1 px-6 py-4">
      {answer.last_restart && (
        <Text size="small" className="text-ui-fg-subtle" title={answer.last_restart.at} data-testid="workflow-last-restart">
          {restartSentence(answer.last_restart)}
        </Text>
      )}
      {answer.last_retry && (
        <Text size="small" className="text-ui-fg-subtle" title={answer.last_retry.at} data-testid="workflow-last-retry">
          {retrySentence(answer.last_retry)}
        </Text>
      )}
      {answer.camunda_problem && (
        <Text size="xsmall" className="text-ui-fg-muted" data-testid="workflow-camunda-problem">
          {answer.camunda_problem}
        </Text>
      )}
    </div>
  )
}

/** "Restart workflow" with a required reason, where Camunda confirmed that no instance runs for the order. */
const Restart = ({ answer, orderId, displayId }: { answer: OrderActionsAnswer; orderId: string; displayId?: number }) => {
  const [open, setOpen] = useState(false)
  const [reason, setReason] = useState("")
  const restart = useRestartWorkflow(orderId)
  if (answer.restart.offer !== "available") return null
  const onConfirm = () => {
    restart.mutate(reason.trim(), {
      onSuccess: (result) => {
        setOpen(false)
        setReason("")
        toast.success("Workflow restarted", {
          description:
            result.status === "started"
              ? `Restart ${result.restart.number}: a new process was started for this order.`
              : `Restart ${result.restart.number} was sent before; no second process was started.`,
        })
      },
      onError: (err) => {
        setOpen(false)
        toast.error("The workflow was not restarted", { description: err.message })
      },
    })
  }
  return (
    <div className="flex flex-col items-end gap-y-2 px-6 py-4">
      <Text size="xsmall" className="text-ui-fg-muted self-start" data-testid="workflow-restart-hint">
        Camunda runs no process for this order. If its process was lost (canceled in Operate, lost with a
        cluster), restart it.
      </Text>
      <Prompt open={open} onOpenChange={setOpen} variant="confirmation">
        <Prompt.Trigger asChild>
          <Button size="small" variant="secondary" data-testid="workflow-restart">
            Restart workflow
          </Button>
        </Prompt.Trigger>
        <Prompt.Content>
          <Prompt.Header>
            <Prompt.Title>Restart the workflow of order #{displayId ?? orderId}?</Prompt.Title>
            <Prompt.Description>
              A new process starts from the beginning: it checks the payment and the reservations again and
              sends the mails not sent yet. Your name, the time and this reason are recorded on the order.
            </Prompt.Description>
          </Prompt.Header>
          <div className="flex flex-col gap-y-2 px-6 pb-4">
            <Label htmlFor="workflow-restart-reason" size="small">
              Why (required)
            </Label>
            <Textarea
              id="workflow-restart-reason"
              value={reason}
              maxLength={500}
              onChange={(event) => setReason(event.target.value)}
              placeholder="e.g. The process was canceled in Operate by mistake."
            />
          </div>
          <Prompt.Footer>
            <Prompt.Cancel>Cancel</Prompt.Cancel>
            <Prompt.Action
              disabled={reason.trim() === "" || restart.isPending}
              onClick={(event) => {
                event.preventDefault()
                onConfirm()
              }}
            >
              Restart
            </Prompt.Action>
          </Prompt.Footer>
        </Prompt.Content>
      </Prompt>
    </div>
  )
}
