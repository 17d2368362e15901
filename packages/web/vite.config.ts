import { defineConfig } from 'vite';

// The app is served by `courier serve` from dist/app, on the same origin as the API.
export default defineConfig({
  root: 'app',
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: '../dist/app', emptyOutDir: true, target: 'es2022', sourcemap: false },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:8080', ws: true } } },
});
