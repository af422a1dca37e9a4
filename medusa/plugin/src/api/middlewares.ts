import { defineMiddlewares, validateAndTransformBody } from "@medusajs/framework/http"

import { NotificationSendSchema } from "../lib/notification-send"
import { StatusWriteSchema } from "../lib/status-write"

export default defineMiddlewares({
  routes: [
    {
      matcher: "/admin/fulfillment-workflow/orders/:id/status",
      method: "POST",
      middlewares: [validateAndTransformBody(StatusWriteSchema)],
    },
    {
      matcher: "/admin/fulfillment-workflow/orders/:id/notifications",
      method: "POST",
      middlewares: [validateAndTransformBody(NotificationSendSchema)],
    },
  ],
})
