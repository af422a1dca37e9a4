import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

/** Reads a setting that has no safe default: the backend refuses to start without it. */
function required(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(`Missing setting ${name}: set it in the environment or in medusa/backend/.env`)
  }
  return value
}

/**
 * The plugin's options. A shop writes them here as an object; this demo shop takes them as JSON from
 * FULFILLMENT_WORKFLOW_OPTIONS (empty by default: the plugin then reads ORDER_WEBHOOK_URL, ... itself).
 */
function fulfillmentWorkflowOptions(): Record<string, unknown> {
  return JSON.parse(process.env.FULFILLMENT_WORKFLOW_OPTIONS || "{}")
}

// No redisUrl: Medusa then runs its event bus, workflow engine, cache and locking in process. That is
// enough for the demo and the tests; a production shop configures Redis (see the plugin's README.md).
module.exports = defineConfig({
  projectConfig: {
    databaseUrl: required("DATABASE_URL"),
    http: {
      storeCors: process.env.STORE_CORS || "http://localhost:8000",
      adminCors: process.env.ADMIN_CORS || "http://localhost:9000",
      authCors: process.env.AUTH_CORS || "http://localhost:8000,http://localhost:9000",
      jwtSecret: required("JWT_SECRET"),
      cookieSecret: required("COOKIE_SECRET"),
    },
    // `medusa start` marks the admin's session cookie Secure, and express-session then sets none over
    // plain HTTP. This shop serves its admin on http://127.0.0.1 only; a shop behind HTTPS leaves it out.
    cookieOptions: { secure: false },
  },
  plugins: [
    {
      resolve: "medusa-plugin-fulfillment-workflow",
      options: fulfillmentWorkflowOptions(),
    },
  ],
  // The admin dashboard with the plugin's widgets, at /app. `medusa start` serves the build in
  // public/admin, which devstack makes with `medusa build --admin-only` (see README.md).
  admin: {
    disable: false,
    path: "/app",
  },
})
