import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Build tooling run by Node, kept out of renderer/ (which may import browser code only).
const here = fileURLToPath(new URL('./renderer/', import.meta.url));

/** Bundles the editor into dist/renderer/, which `topicflow serve` serves. */
export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer/', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // elkjs (auto-layout) is a 1.4 MB chunk of its own, loaded only when Layout is first used.
    chunkSizeWarningLimit: 1536,
  },
});
