import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, where `postroom serve` serves it at /.
// `npm run dev` proxies /api to a `postroom serve` on port 8080.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/postroom/web/_ui",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
  test: { environment: "jsdom", setupFiles: ["./src/test/setup.ts"], testTimeout: 30000 },
});
