/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  clearScreen: false,
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  server: { port: 5173, strictPort: true, host: process.env.TAURI_DEV_HOST || 'localhost' },
  build: { outDir: 'dist', target: ['es2020', 'safari14'], sourcemap: false },
  test: { environment: 'happy-dom', include: ['src/**/*.test.ts'] },
});
