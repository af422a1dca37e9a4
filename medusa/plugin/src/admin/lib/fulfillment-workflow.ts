/** The plugin's admin routes, as TanStack Query hooks over Medusa's JS SDK. */
import { type QueryFunction, useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useRef } from "react"
import type { OrderWorkflowAnswer, ResendAnswer } from "../../lib/admin-view"
import type { AttentionSummary } from "../../lib/workflow-view"
import { orderRefreshMs, SUMMARY_REFRESH, summaryRefreshMs } from "./refresh"
import { sdk } from "./sdk"

const ROOT = "/admin/fulfillment-workflow"
const QUERY_KEY = "fulfillment-workflow"

/**
 * Counts the failed reads in a row (reset by a good one), for the backoff. TanStack Query's own retry is
 * off for these queries (`retry: false`), so each failed read is one request and the schedule is ours.
 */
function useFailureCount<T>(read: () => Promise<T>): { queryFn: QueryFunction<T>; failures: () => number } {
  const failures = useRef(0)
  const queryFn = async () => {
    try {
      const answer = await read()
      failures.current = 0
      return answer
    } catch (error) {
      failures.current += 1
      throw error
    }
  }
  return { queryFn, failures: () => failures.current }
}

/** The order's workflow; read again while it can change (see refresh.ts), never once it has ended. */
export function useOrderWorkflow(orderId: string) {
  const { queryFn, failures } = useFailureCount(() =>
    sdk.client.fetch<OrderWorkflowAnswer>(`${ROOT}/orders/${orderId}`)
  )
  const query = useQuery({
    queryKey: [QUERY_KEY, "order", orderId],
    queryFn,
    retry: false,
    refetchInterval: (current) => orderRefreshMs(current.state.data?.workflow, failures()),
  })
  return { ...query, failures: failures(), nextReadMs: orderRefreshMs(query.data?.workflow, failures()) }
}

export function useResendToWorkflow(orderId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: () => sdk.client.fetch<ResendAnswer>(`${ROOT}/orders/${orderId}/resend`, { method: "POST" }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: [QUERY_KEY] }),
  })
}

/**
 * The orders list summary: one bounded page (the newest orders of the last week), read every two minutes
 * while the tab is visible. `refetchIntervalInBackground: false` (TanStack Query's default, said here on
 * purpose) skips the reads while the browser reports the tab hidden.
 */
export function useAttentionSummary() {
  const { queryFn, failures } = useFailureCount(() =>
    sdk.client.fetch<AttentionSummary>(`${ROOT}/summary`, { query: { limit: SUMMARY_REFRESH.limit } })
  )
  const query = useQuery({
    queryKey: [QUERY_KEY, "summary", SUMMARY_REFRESH.limit],
    queryFn,
    retry: false,
    refetchInterval: () => summaryRefreshMs(failures()),
    refetchIntervalInBackground: false,
  })
  return { ...query, failures: failures(), nextReadMs: summaryRefreshMs(failures()) }
}
