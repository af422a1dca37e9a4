// Defined by Medusa's admin build for plugins: the backend the admin talks to ("/" when served by it).
declare const __BACKEND_URL__: string | undefined
