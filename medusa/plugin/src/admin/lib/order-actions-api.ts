/** The order actions' admin routes (restart, incidents) as TanStack Query hooks over Medusa's JS SDK. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import type { OrderActionsAnswer, RestartAnswer, RetryAnswer } from "../../lib/order-actions-view"
import { sdk } from "./sdk"

const ROOT = "/admin/fulfillment-workflow/orders"
const QUERY_KEY = "fulfillment-workflow"
/**
 * Each read asks Camunda (the order's instances and incidents), so it is read once when the page opens,
 * after each action, and then every 30 seconds while the process can still change: an incident shows
 * within half a minute.
 */
export const ACTIONS_REFRESH_MS = 30_000

/** `ended`: the order's process has ended (or the order is closed): read once, unless an incident shows. */
export function useOrderActions(orderId: string, ended: boolean) {
  return useQuery({
    queryKey: [QUERY_KEY, "actions", orderId],
    queryFn: () => sdk.client.fetch<OrderActionsAnswer>(`${ROOT}/${orderId}/actions`),
    retry: false,
    refetchInterval: (query) => (ended && !query.state.data?.incidents.length ? false : ACTIONS_REFRESH_MS),
  })
}

export function useRestartWorkflow(orderId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (reason: string) =>
      sdk.client.fetch<RestartAnswer>(`${ROOT}/${orderId}/restart`, { method: "POST", body: { reason } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: [QUERY_KEY] }),
  })
}

export function useRetryIncident(orderId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (incidentKey: string) =>
      sdk.client.fetch<RetryAnswer>(`${ROOT}/${orderId}/incidents/${incidentKey}/retry`, { method: "POST" }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: [QUERY_KEY] }),
  })
}
