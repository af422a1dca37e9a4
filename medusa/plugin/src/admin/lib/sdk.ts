import Medusa from "@medusajs/js-sdk"

// The admin's own session: the widgets call the plugin's admin routes as the logged-in user.
export const sdk = new Medusa({
  baseUrl: __BACKEND_URL__ || "/",
  auth: { type: "session" },
})
