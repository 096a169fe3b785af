import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { consolePortFromEnv, FORWARDED_PATHS, serviceUrlsFromEnv } from "./server/services.ts";

// `pnpm --filter @tidings/console dev`: Vite's dev server forwards /api/<service>/ paths like the console's server does.
const services = serviceUrlsFromEnv(process.env);
export default defineConfig({
  plugins: [react()],
  // One bundle for an operators' app (~90 kB gzipped), and the overview's charts (Recharts, ~110 kB gzipped) in a
  // chunk of their own that the overview loads.
  build: { chunkSizeWarningLimit: 1024 },
  server: {
    port: consolePortFromEnv(process.env),
    // Only what the console's server forwards (FORWARDED_PATHS): `/api/v1/`, and content's `/media/`.
    proxy: Object.fromEntries(
      Object.entries(services).flatMap(([name, target]) =>
        FORWARDED_PATHS[name as keyof typeof FORWARDED_PATHS].map((prefix) => [
          `^/api/${name}${prefix}`,
          { target, changeOrigin: true, rewrite: (p: string) => p.slice(`/api/${name}`.length) },
        ]),
      ),
    ),
  },
});
