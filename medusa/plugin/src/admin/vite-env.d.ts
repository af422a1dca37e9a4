// Defined by Medusa's admin build (@medusajs/admin-bundler) for the dashboard and the plugins it bundles.
/** The backend the admin talks to ("/" or empty when served by it). */
declare const __BACKEND_URL__: string | undefined
/** ADMIN_AUTH_TYPE at build time: how the dashboard authenticates; undefined means "session". */
declare const __AUTH_TYPE__: "session" | "jwt" | undefined
/** ADMIN_JWT_TOKEN_STORAGE_KEY at build time: where the dashboard keeps its JWT; undefined = the SDK's default. */
declare const __JWT_TOKEN_STORAGE_KEY__: string | undefined
