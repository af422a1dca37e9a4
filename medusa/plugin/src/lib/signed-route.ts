/**
 * The middleware in front of each of the plugin's routes outside /admin (registered in
 * ../api/middlewares.ts, with Medusa's body parser keeping the raw body): the caller's signature first,
 * then the body. Nothing is read or changed for a request that fails either check.
 */
import type { MedusaNextFunction, MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import type { z } from "@medusajs/framework/zod"

import { CALLER_OPTION, callerSecrets, type SignedCaller } from "./options"
import { pluginOptions } from "./settings"
import { checkRouteBody, verifySignature } from "./signed-request"

/** The one 401 answer: it does not tell a prober which check failed. */
const UNAUTHORIZED = { message: "Missing or invalid signature" }

export function signedBody<T extends { order_id: string }>(caller: SignedCaller, schema: z.ZodType<T>) {
  return function verifySignedBody(req: MedusaRequest, res: MedusaResponse, next: MedusaNextFunction): void {
    const check = verifySignature(req.rawBody, req.headers, callerSecrets(pluginOptions(req.scope), caller))
    if (!check.ok) {
      req.scope
        .resolve(ContainerRegistrationKeys.LOGGER)
        .warn(`fulfillment-workflow: refused ${req.method} ${req.path} (${CALLER_OPTION[caller]}): ${check.problem}`)
      res.status(401).json(UNAUTHORIZED)
      return
    }
    const body = checkRouteBody(schema, req.body, req.params.id)
    if (!body.ok) {
      res.status(400).json({ message: body.message })
      return
    }
    req.validatedBody = body.body
    next()
  }
}
