/** The plugin's admin routes, as TanStack Query hooks over Medusa's JS SDK. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import type { ResendAnswer } from "../../lib/admin-view"
import { type AttentionSummary, isFinalState, type WorkflowView } from "../../lib/workflow-view"
import { sdk } from "./sdk"

const ROOT = "/admin/fulfillment-workflow"
const QUERY_KEY = "fulfillment-workflow"
// While a process runs, its status changes every few seconds: refresh until it ends.
const RUNNING_REFRESH_MS = 5_000

export function useOrderWorkflow(orderId: string) {
  return useQuery({
    queryKey: [QUERY_KEY, "order", orderId],
    queryFn: () => sdk.client.fetch<{ workflow: WorkflowView }>(`${ROOT}/orders/${orderId}`),
    refetchInterval: (query) => {
      const state = query.state.data?.workflow.state
      return state && isFinalState(state) ? false : RUNNING_REFRESH_MS
    },
  })
}

export function useResendToWorkflow(orderId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: () => sdk.client.fetch<ResendAnswer>(`${ROOT}/orders/${orderId}/resend`, { method: "POST" }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: [QUERY_KEY] }),
  })
}

export function useAttentionSummary() {
  return useQuery({
    queryKey: [QUERY_KEY, "summary"],
    queryFn: () => sdk.client.fetch<AttentionSummary>(`${ROOT}/summary`),
    refetchInterval: 60_000,
  })
}
