// The network as the resident sees it: whether the backend was reachable at the last
// try (the offline banner), and how many network steps run now (leaving a screen
// cancels them). Fed by api.ts from every command that goes to the network.
import type { CommandName, UiError } from './types';

/** The commands that talk to the backend or a verifier. */
export const NETWORK_COMMANDS: ReadonlySet<CommandName> = new Set<CommandName>([
  'submit_enrollment', 'scan_desk_qr', 'refresh_status', 'resend_code', 'activate',
  'refresh_documents', 'release_device', 'forgot_pin', 'reset_pin_with_code',
  'presentation_request', 'present', 'decline_presentation', 'start_check', 'check_result',
]);

const net = { offline: false, listeners: new Set<(offline: boolean) => void>(), inflight: 0 };

/** Errors that mean the backend was not reached. */
export function unreachable(e: UiError): boolean {
  return e.code === 'offline' || e.code === 'timeout';
}

export function setOffline(offline: boolean): void {
  if (net.offline === offline) return;
  net.offline = offline;
  net.listeners.forEach((l) => l(offline));
}
export function isOffline(): boolean { return net.offline; }
export function onOfflineChange(l: (offline: boolean) => void): () => void {
  net.listeners.add(l);
  return () => { net.listeners.delete(l); };
}

/** Network commands running now. */
export function inflight(): number { return net.inflight; }

/** Wraps one command's call: counts it while it runs, and reads reachability off its end. */
export async function tracked<T>(cmd: CommandName, run: () => Promise<T>, toErr: (e: unknown) => UiError): Promise<T> {
  if (!NETWORK_COMMANDS.has(cmd)) return run();
  net.inflight += 1;
  try {
    const v = await run();
    setOffline(false);
    return v;
  } catch (e) {
    const err = toErr(e);
    // An answer (even a refusal) means the backend was reached; a cancel says nothing.
    if (err.code !== 'cancelled') setOffline(unreachable(err));
    throw err;
  } finally {
    net.inflight -= 1;
  }
}
