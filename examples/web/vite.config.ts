import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset paths, so the built app works from any directory or static server. The
// dev and preview servers pass /graphql to the gateway (same origin: no CORS needed).
const gateway = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  base: './',
  server: { proxy: { '/graphql': gateway } },
  preview: { proxy: { '/graphql': gateway } },
  plugins: [react()],
  // React, Apollo Client and graphql-js make one ~580 kB chunk (170 kB gzipped).
  build: { sourcemap: true, chunkSizeWarningLimit: 800 },
});
