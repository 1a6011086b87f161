import { defineConfig } from "vitest/config"

// The harness's own tests (its counting and its table), run with `pnpm --filter @cwlogs/chaos test`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    root: new URL(".", import.meta.url).pathname
  }
})
