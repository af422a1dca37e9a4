import { defineMiddlewares, validateAndTransformBody } from "@medusajs/framework/http"

import { StatusWriteSchema } from "../lib/status-write"

export default defineMiddlewares({
  routes: [
    {
      matcher: "/admin/fulfillment-workflow/orders/:id/status",
      method: "POST",
      middlewares: [validateAndTransformBody(StatusWriteSchema)],
    },
  ],
})
