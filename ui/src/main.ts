import './style.css';
import { startApp } from './app';

// Start-up probe read by scripts/startup: the bundle has been fetched and evaluated.
performance.mark('ikd-boot');

async function boot(): Promise<void> {
  // `npm run dev` in a plain browser: open http://localhost:5173/?fake to use the in-page fake
  // shell from the e2e tests (dev server only; never part of the production bundle).
  if (import.meta.env.DEV && new URLSearchParams(location.search).has('fake')) {
    await import('../e2e/fake-backend');
  }
  const root = document.getElementById('app');
  if (root) startApp(root);
}
void boot();
