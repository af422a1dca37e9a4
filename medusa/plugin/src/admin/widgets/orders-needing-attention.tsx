/** Orders list: how many recent orders failed in the workflow or stalled, with a link to each. */
import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Badge, Container, Heading, Text } from "@medusajs/ui"
import { Link } from "react-router-dom"
import type { AttentionOrder } from "../../lib/workflow-view"
import { useAttentionSummary } from "../lib/fulfillment-workflow"
import { relativeTime, statusLabel } from "../lib/presentation"

const OrdersNeedingAttentionWidget = () => {
  const { data, isError, error } = useAttentionSummary()
  if (isError) {
    return (
      <Container>
        <Text size="small">Could not load the fulfillment workflow summary: {error.message}</Text>
      </Container>
    )
  }
  if (!data) return null
  const total = data.failed.length + data.stalled.length
  return (
    <Container className="divide-y p-0" data-testid="workflow-attention">
      <div className="flex items-center justify-between px-6 py-4">
        <Heading level="h2">Fulfillment workflow</Heading>
        <div className="flex gap-x-2">
          <Badge color={data.failed.length ? "red" : "grey"} size="2xsmall" data-testid="workflow-failed-count">
            {data.failed.length} failed
          </Badge>
          <Badge color={data.stalled.length ? "orange" : "grey"} size="2xsmall" data-testid="workflow-stalled-count">
            {data.stalled.length} stalled
          </Badge>
        </div>
      </div>
      {total === 0 ? (
        <div className="px-6 py-4">
          <Text size="small" className="text-ui-fg-subtle">
            No failed or stalled orders since {new Date(data.since).toLocaleDateString()}.
          </Text>
        </div>
      ) : (
        <ul className="flex flex-col gap-y-1 px-6 py-4">
          {data.failed.map((order) => (
            <AttentionRow key={order.id} order={order} kind="failed" />
          ))}
          {data.stalled.map((order) => (
            <AttentionRow key={order.id} order={order} kind="stalled" />
          ))}
        </ul>
      )}
    </Container>
  )
}

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
