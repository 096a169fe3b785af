import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { serviceUrlsFromEnv } from "./server/services.ts";

// `pnpm --filter @tidings/console dev`: Vite's dev server forwards /api/<service>/ like the console's server does.
const services = serviceUrlsFromEnv(process.env);
export default defineConfig({
  plugins: [react()],
  // One bundle for an operators' app (~90 kB gzipped), and the overview's charts (Recharts, ~110 kB gzipped) in a
  // chunk of their own that the overview loads.
  build: { chunkSizeWarningLimit: 1024 },
  server: {
    port: Number(process.env.CONSOLE_PORT ?? 3000),
    proxy: Object.fromEntries(
      Object.entries(services).map(([name, target]) => [
        `/api/${name}/`,
        { target, changeOrigin: true, rewrite: (p: string) => p.slice(`/api/${name}`.length) },
      ]),
    ),
  },
});
