/**
 * The plugin's routes as Medusa sees them.
 *
 * - The signed routes outside /admin (POST /fulfillment-workflow/orders/:id/view, cancel, status): Medusa
 *   gives them no authentication; the body parser keeps the raw body (`preserveRawBody`) so the
 *   signature is checked over the exact bytes, before the body is read; each accepts one caller's secret.
 * - The admin routes: authenticated like every /admin route; with Medusa's RBAC feature flag on
 *   (MEDUSA_FF_RBAC=true) the user's roles must grant these policies (without the flag Medusa skips them).
 *   Reading the workflow (and its incidents) is reading the order; resending, restarting it or retrying
 *   its incident acts on the order.
 */
import { defineMiddlewares, type MiddlewareRoute } from "@medusajs/framework/http"
import { PolicyOperation } from "@medusajs/framework/utils"

import { CancelBodySchema, ViewBodySchema } from "../lib/route-bodies"
import { signedBody } from "../lib/signed-route"
import { StatusWriteSchema } from "../lib/status-write"

const SIGNED_BODY_PARSER = { preserveRawBody: true } as const

const READ_ORDERS = [{ resource: "order", operation: PolicyOperation.read }]
const UPDATE_ORDERS = [{ resource: "order", operation: PolicyOperation.update }]

// Typed as Medusa's MiddlewareRoute, which carries `policies` (defineMiddlewares passes them on as given).
const ADMIN_ROUTES: MiddlewareRoute[] = [
  { matcher: "/admin/fulfillment-workflow/orders/:id", methods: ["GET"], policies: READ_ORDERS },
  { matcher: "/admin/fulfillment-workflow/orders/:id/resend", methods: ["POST"], policies: UPDATE_ORDERS },
  { matcher: "/admin/fulfillment-workflow/orders/:id/actions", methods: ["GET"], policies: READ_ORDERS },
  { matcher: "/admin/fulfillment-workflow/orders/:id/restart", methods: ["POST"], policies: UPDATE_ORDERS },
  {
    matcher: "/admin/fulfillment-workflow/orders/:id/incidents/:key/retry",
    methods: ["POST"],
    policies: UPDATE_ORDERS,
  },
  { matcher: "/admin/fulfillment-workflow/summary", methods: ["GET"], policies: READ_ORDERS },
  { matcher: "/admin/fulfillment-workflow/config", methods: ["GET"], policies: READ_ORDERS },
]

export default defineMiddlewares({
  routes: [
    {
      matcher: "/fulfillment-workflow/orders/:id/view",
      methods: ["POST"],
      bodyParser: SIGNED_BODY_PARSER,
      middlewares: [signedBody("worker", ViewBodySchema)],
    },
    {
      matcher: "/fulfillment-workflow/orders/:id/cancel",
      methods: ["POST"],
      bodyParser: SIGNED_BODY_PARSER,
      middlewares: [signedBody("worker", CancelBodySchema)],
    },
    {
      matcher: "/fulfillment-workflow/orders/:id/status",
      methods: ["POST"],
      bodyParser: SIGNED_BODY_PARSER,
      middlewares: [signedBody("status", StatusWriteSchema)],
    },
    ...ADMIN_ROUTES,
  ],
})
