import Medusa from "@medusajs/js-sdk"

/**
 * The widgets call the plugin's admin routes as the logged-in user, authenticated exactly as the dashboard's
 * own JS SDK is: Medusa's admin build defines the same constants for the dashboard and for the plugins it
 * bundles (`ADMIN_AUTH_TYPE` and `ADMIN_JWT_TOKEN_STORAGE_KEY` at build time; @medusajs/dashboard's
 * src/lib/client/client.ts reads them the same way). With "jwt" the dashboard keeps its token in browser
 * storage under that key and the SDK sends it as a Bearer token; with "session" it sends the session cookie.
 * `typeof` keeps the widgets working in a build that does not define a constant: the dashboard's default.
 */
const authType = typeof __AUTH_TYPE__ === "undefined" ? undefined : __AUTH_TYPE__
const jwtTokenStorageKey = typeof __JWT_TOKEN_STORAGE_KEY__ === "undefined" ? undefined : __JWT_TOKEN_STORAGE_KEY__

export const sdk = new Medusa({
  baseUrl: (typeof __BACKEND_URL__ === "undefined" ? undefined : __BACKEND_URL__) || "/",
  auth: { type: authType ?? "session", jwtTokenStorageKey: jwtTokenStorageKey || undefined },
})
