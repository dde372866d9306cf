// Vite config for the demo page: `npm start` serves it, `npm run build` writes
// a static site to dist/demo. The page imports the library from ../src and the
// bundled MNIST files from ../assets, so the dev server may read the repo root.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const demoRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: demoRoot,
  base: './',
  publicDir: false,
  server: {
    host: '127.0.0.1',
    port: 5173,
    fs: { allow: [repoRoot] },
  },
  preview: { host: '127.0.0.1', port: 4173 },
  // Pre-bundle the two UI libraries at startup so the first page load never
  // triggers a dependency re-optimisation (and a reload) mid-session.
  optimizeDeps: { include: ['uplot', 'lil-gui'] },
  build: {
    outDir: fileURLToPath(new URL('../dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
});
