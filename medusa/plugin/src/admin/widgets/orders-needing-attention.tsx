/**
 * Orders list: how many recent open orders failed in the workflow or stalled, with a link to each. Drafts and
 * canceled orders are not counted: there is nothing left for staff to do about their workflow.
 */
import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Badge, Container, Heading, Text } from "@medusajs/ui"
import { Link } from "react-router-dom"
import type { AttentionOrder, AttentionSummary } from "../../lib/workflow-view"
import { useAttentionSummary } from "../lib/fulfillment-workflow"
import { coverageSentence, refreshSentence, relativeTime, statusLabel } from "../lib/presentation"

const OrdersNeedingAttentionWidget = () => {
  const { data, error, failures, nextReadMs } = useAttentionSummary()
  const refresh = refreshSentence({ failures, nextReadMs, error: error?.message }, "the fulfillment workflow summary")
  if (!data && !refresh) return null
  return (
    <Container className="divide-y p-0" data-testid="workflow-attention">
      <div className="flex items-center justify-between px-6 py-4">
        <Heading level="h2">Fulfillment workflow</Heading>
        {data && <Counts summary={data} />}
      </div>
      {data && <AttentionList summary={data} />}
      {refresh && (
        <div className="px-6 py-4">
          <Text size="small" className="text-ui-fg-subtle" data-testid="workflow-refresh">
            {refresh}
          </Text>
        </div>
      )}
    </Container>
  )
}

const Counts = ({ summary }: { summary: AttentionSummary }) => (
  <div className="flex gap-x-2">
    <Badge color={summary.failed.length ? "red" : "grey"} size="2xsmall" data-testid="workflow-failed-count">
      {summary.failed.length} failed
    </Badge>
    <Badge color={summary.stalled.length ? "orange" : "grey"} size="2xsmall" data-testid="workflow-stalled-count">
      {summary.stalled.length} stalled
    </Badge>
  </div>
)

const AttentionList = ({ summary }: { summary: AttentionSummary }) => (
  <div className="flex flex-col gap-y-2 px-6 py-4">
    {summary.failed.length + summary.stalled.length === 0 ? (
      <Text size="small" className="text-ui-fg-subtle">
        No failed or stalled orders.
      </Text>
    ) : (
      <ul className="flex flex-col gap-y-1">
        {summary.failed.map((order) => (
          <AttentionRow key={order.id} order={order} kind="failed" />
        ))}
        {summary.stalled.map((order) => (
          <AttentionRow key={order.id} order={order} kind="stalled" />
        ))}
      </ul>
    )}
    <Text size="xsmall" className="text-ui-fg-muted" data-testid="workflow-coverage">
      {coverageSentence(summary)}
    </Text>
  </div>
)

const AttentionRow = ({ order, kind }: { order: AttentionOrder; kind: "failed" | "stalled" }) => (
  <li className="flex items-center justify-between gap-x-4" data-attention={kind} data-order-id={order.id}>
    <Link to={`/orders/${order.id}`} className="txt-compact-small-plus text-ui-fg-interactive">
      Order #{order.display_id ?? order.id}
    </Link>
    <Text size="small" className="text-ui-fg-subtle truncate">
      {kind === "stalled" ? "Stalled: " : ""}
      {statusLabel(order.status)}
      {order.last_updated ? `, ${relativeTime(order.last_updated)}` : ""}
    </Text>
  </li>
)

export const config = defineWidgetConfig({ zone: "order.list.before" })

export default OrdersNeedingAttentionWidget
